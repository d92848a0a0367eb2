"""The ``riskservice`` command line: score, score-csv, export-schemas, train, check-knowledge, hash-api-key."""
from __future__ import annotations

import json
import os
import sys

if "numpy" not in sys.modules:
    # The command line's numpy work is element-wise, one process per core for a batch: an
    # OpenBLAS thread pool would only busy-wait after numpy's import (about 0.13 s of CPU on
    # the core that score-csv's prescan child needs). Set before the first numpy import.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click

from riskservice.cli.columns import build_mapping, mapping_options
from riskservice.core.errors import KnowledgeError, UnapprovedKnowledge, ValidationProblem


@click.group()
@click.version_option(package_name="riskservice")
def main():
    """Transparent insulin-resistance risk-factor scoring (decision support only)."""


def _scorer(model: bool):
    from riskservice.cli.scorer import build_scorer
    return build_scorer(model)


@main.command("score")
@click.argument("infile", type=click.File("r"), default="-")
@click.option("--no-model", is_flag=True, help="Rules and indices only.")
@click.option("--audience", type=click.Choice(["clinician", "patient"]), default="clinician",
              show_default=True, help="Who reads the texts; the numbers are the same.")
@click.option("--view", type=click.Choice(["summary", "standard", "full"]), default="full", show_default=True,
              help="summary: points, band, probability, flags, top mechanisms, missing inputs (< 2 kB).")
def score_cmd(infile, no_model, audience, view):
    """Score one patient from a JSON file (or - for stdin) and print the JSON result."""
    try:
        payload = json.load(infile)
    except ValueError as exc:
        raise click.ClickException(f"not valid JSON: {exc}")
    try:
        result = _scorer(not no_model).score(payload, audience=audience, view=view)
    except ValidationProblem as exc:
        click.echo(json.dumps({"errors": exc.errors}, indent=2), err=True)
        sys.exit(2)
    except UnapprovedKnowledge as exc:
        click.echo(str(exc), err=True)
        sys.exit(3)
    click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@main.command("score-csv")
@click.argument("infile", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("-o", "--output", "outfile", default="-", type=click.Path(allow_dash=True, dir_okay=False),
              help="Output CSV (default: stdout).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--no-model", is_flag=True, help="Rules and indices only (probability left empty).")
@click.option("--audience", type=click.Choice(["clinician", "patient"]), default="clinician",
              help="patient: plain-language mechanism labels.")
@click.option("--delimiter", default=None, help="comma, semicolon, tab or pipe (default: detected from the header).")
@click.option("--decimal", default=".", show_default=True, help="Decimal mark of the numbers: . or ,")
@click.option("--encoding", default=None, help="utf-8 (default), utf-16, latin-1 or windows-1252; a BOM wins.")
@click.option("--no-csv-safe", is_flag=True,
              help="Do not prefix text cells starting with = + - @ tab or CR with an apostrophe.")
@mapping_options
def score_csv(infile, outfile, quiet, no_model, audience, delimiter, decimal, encoding, no_csv_safe,
              maps, map_file, ignores, units):
    """Score a CSV file (or - for stdin), one output row per input record, in order.

    Columns are recognised by name, by a listed synonym (Gender, HDL-C (mmol/L), LBXGLU) or by the
    mapping options; which column became which field, and which were ignored, is printed first.
    Exit status: 0 when every row scored, 2 when some rows had errors (each error is in its
    row's `error` column), 1 on a fatal error (unreadable file, unusable header).
    """
    from riskservice.csvio.dialect import CsvOptions, DialectError
    from riskservice.csvio.encoding import UnknownEncoding, codec_for
    mapping = build_mapping(maps, map_file, ignores, units)
    try:
        codec = codec_for(encoding)
        options = CsvOptions.parse(delimiter, decimal, encoding, csv_safe=not no_csv_safe)
    except (DialectError, UnknownEncoding) as exc:
        raise click.BadParameter(str(exc))
    prescan = None
    if codec == "utf-8":  # before the imports below: the child finds record boundaries meanwhile
        from riskservice.cli.prescan import Prescan
        prescan = Prescan.start(infile, options.delimiter)
    try:
        from riskservice.cli.batch import run_score_csv
        code = run_score_csv(infile, outfile, quiet=quiet, model=not no_model, audience=audience, options=options,
                             prescan=prescan, mapping=mapping)
    finally:
        if prescan is not None:
            prescan.close()
    from riskservice.cli.fastexit import exit_now
    exit_now(code, main)


@main.command("export-schemas")
@click.argument("directory", default="schemas")
def export_schemas(directory):
    """Write the JSON Schemas and openapi.json generated from the code into DIRECTORY."""
    from riskservice.api.openapi import export
    from riskservice.core.knowledge import load_knowledge
    try:
        kb = load_knowledge()
    except KnowledgeError as exc:
        raise click.ClickException(str(exc))
    for name in export(kb, directory):
        click.echo(f"wrote {directory}/{name}")


from riskservice.model.commands import derive_points_command, train_command  # noqa: E402

main.add_command(train_command)
main.add_command(derive_points_command)

from riskservice.cli.percentiles import derive_percentiles_command  # noqa: E402

main.add_command(derive_percentiles_command)

from riskservice.cli.parquet import score_parquet_command  # noqa: E402  (imports Dask only when run)

main.add_command(score_parquet_command)


@main.command("hash-api-key")
def hash_api_key():
    """Read an API key on stdin; print the line to put in RISKSERVICE_API_KEYS_FILE."""
    import hashlib
    key = sys.stdin.readline().strip()
    if not key:
        raise click.ClickException("no key on standard input")
    click.echo("sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest())


@main.command("check-knowledge")
@click.argument("directory", required=False)
def check_knowledge(directory):
    """Validate a knowledge directory (default: the shipped one) and print its digest."""
    from riskservice.core.knowledge import load_knowledge
    try:
        kb = load_knowledge(directory)
    except KnowledgeError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"ok: ruleset {kb.version} sha256 {kb.sha256}")
