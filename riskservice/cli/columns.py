"""The CLI's column options (--map, --map-file, --ignore, --unit) and the report it prints before scoring.

The mapping is read here and applied by the one column planner of the core
(:func:`riskservice.core.header.plan_columns`), exactly as HTTP and Dask apply theirs.
"""
from __future__ import annotations

import click

from riskservice.core.mapping import Mapping, MappingProblem, load, pairs


def mapping_options(command):
    """--map FIELD=COLUMN (repeatable), --map-file FILE (JSON or TOML), --ignore COLUMN, --unit FIELD=UNIT."""
    options = [
        click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
                     help="Read COLUMN as FIELD (repeatable), e.g. --map sex=Gender."),
        click.option("--map-file", type=click.Path(exists=True, dir_okay=False),
                     help="A JSON or TOML mapping: columns (field -> column, or {column, unit}), values "
                          "(field -> {cell: value}), ignore (columns); see examples/nhanes_mapping.toml."),
        click.option("--ignore", "ignores", multiple=True, metavar="COLUMN",
                     help="Pass COLUMN through unread even if it looks like a field (repeatable)."),
        click.option("--unit", "units", multiple=True, metavar="FIELD=UNIT",
                     help="The unit of FIELD's column when its header does not say (repeatable)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def build_mapping(maps=(), map_file=None, ignores=(), units=()) -> Mapping:
    """One Mapping from the file, then the --map, --unit and --ignore options on top; a
    malformed mapping is a usage error that names every fault."""
    try:
        mapping = load(map_file) if map_file else Mapping()
        if maps:
            mapping = mapping.merged(pairs(maps, "="))
        if units:
            mapping = mapping.merged(pairs(units, "=", what="unit"))
        if ignores:
            mapping = mapping.merged(Mapping(ignore=list(ignores)))
    except MappingProblem as exc:
        raise click.UsageError(problems_text(exc)) from None
    return mapping


def problems_text(exc) -> str:
    """A ValidationProblem as lines a person reads: its title, then each column or field and its messages."""
    lines = [f"{exc.title}:"]
    for where, messages in exc.errors.items():
        lines += [f"  {where}: {m}" for m in messages]
    return "\n".join(lines)


def report_text(report: dict) -> str:
    """Which column became which field (and unit), and which were ignored, one line each."""
    used, ignored = report["used"], report["ignored"]
    lines = [f"columns: {len(used)} used, {len(ignored)} ignored"]
    for entry in used:
        how = "" if entry["by"] == "name" else f" ({entry['by']})"
        unit = ""
        if entry.get("unit_from"):
            unit = f" [{entry['unit'] or 'unit'}: {entry['unit_from']}]"
        values = f" [{entry['values']} mapped values]" if entry.get("values") else ""
        lines.append(f"  {entry['column']} -> {entry['field']}{how}{unit}{values}")
    if ignored:
        lines.append("  ignored (passed through unread): " + ", ".join(ignored))
    return "\n".join(lines)
