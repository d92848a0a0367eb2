"""Which input columns (CSV header names, JSON-array keys, Parquet columns) are fields, units or passed through.

A column becomes a field by its name (``age``, ``fasting_glucose_unit``), by a synonym from
``knowledge/input_synonyms.json`` (``Gender``, ``HDL-C (mmol/L)``, ``LBXGLU``; a unit written in
the header sets the column's unit), or by an explicit mapping (:mod:`riskservice.core.mapping`).
Problems are reported before any row is scored (a 422): a required column missing, a column that
looks like a field but was not used (a near-miss spelling, or a look-alike such as a plain
``Glucose``), two columns for one field, a unit the field does not have. Every plan carries the
report of which column became which field (and unit) and which columns were ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from riskservice.core.fields import FIELD_BY_NAME
from riskservice.core.mapping import Mapping
from riskservice.core.names import names_for

REQUIRED = ("age", "sex")
HOW_TO_MAP = ("map it (CLI --map {f}={c}, HTTP map={f}:{c}) or ignore it (CLI --ignore {c}, HTTP ignore={c})")


@dataclass
class ColumnPlan:
    """How input columns map to fields; anything else is passed through in its place."""

    fields: dict = field(default_factory=dict)      # field or unit key -> source column name
    passthrough: list = field(default_factory=list)
    problems: dict = field(default_factory=dict)    # column -> messages (422 before scoring)
    units: dict = field(default_factory=dict)       # field -> unit name, from the header or the mapping
    values: dict = field(default_factory=dict)      # field -> {cell text (lower case): value}
    used: list = field(default_factory=list)        # the report: one entry per used column
    ignored_on_request: list = field(default_factory=list)
    unit_from: dict = field(default_factory=dict)   # field -> "header" | "NHANES name" | "mapping"

    def report(self) -> dict:
        """Which column became which field (and unit), and which columns were ignored."""
        return {"used": self.used, "ignored": list(self.passthrough)}

    def problem(self, column, message):
        self.problems.setdefault(column, []).append(message)


def plan_columns(header, kb, mapping: Mapping | None = None, require: bool = True) -> ColumnPlan:
    """The plan for these column names under ``kb``'s synonyms and an optional explicit mapping
    (``require=False``: a missing age or sex column is each row's own error, as for JSON arrays)."""
    names = names_for(kb)
    mapping = mapping or Mapping()
    header = [str(n) for n in header]
    plan = ColumnPlan()
    taken: dict = {}
    by: dict = {}
    for name, wanted in mapping.columns.items():
        column = _find(wanted, header)
        if column is None:
            plan.problem(name, f"the mapping names column {wanted!r} for {name}, but the file has no such column")
        elif column in taken:
            plan.problem(column, f"mapped twice: to {taken[column]} and to {name}")
        else:
            taken[column] = name
            plan.fields[name] = column
            by[name] = "mapping"
            head = names.header(column)
            if head is not None and head.field == name and head.unit:
                plan.units[name] = head.unit
                plan.unit_from[name] = "header" if head.unit_text else f"{head.by} name"
            if head is not None and head.field == name and head.values:
                plan.values[name] = dict(head.values)
    ignore = {c for wanted in mapping.ignore if (c := _find(wanted, header)) is not None}
    plan.ignored_on_request = [c for c in header if c in ignore]
    for column in header:
        if column in taken:
            continue
        if column in ignore:
            plan.passthrough.append(column)
            continue
        head = names.header(column)
        if head is not None:
            if head.problem:
                plan.problem(column, head.problem + "; " + HOW_TO_MAP.format(f=head.field, c=column))
            elif head.key in plan.fields:
                plan.problem(column, f"{column!r} also names {head.key} (already read from "
                                     f"{plan.fields[head.key]!r}); ignore one of them (CLI --ignore, HTTP ignore=)")
            else:
                plan.fields[head.key] = column
                by[head.key] = head.by
                if head.unit and head.key == head.field:
                    plan.units[head.field] = head.unit
                    plan.unit_from[head.field] = "header" if head.unit_text else f"{head.by} name"
                if head.values:
                    plan.values[head.field] = dict(head.values)
                continue
            plan.passthrough.append(column)
            continue
        look = names.look_alike(column)
        if look is not None:
            target, reason = look
            where = f" (already read from {plan.fields[target]!r})" if target in plan.fields else ""
            plan.problem(column, f"{reason}: did you mean {target}{where}? " + HOW_TO_MAP.format(f=target, c=column))
        plan.passthrough.append(column)
    _mapped_units_and_values(plan, names, mapping)
    for required in REQUIRED if require else ():
        if required not in plan.fields:
            plan.problem(required, f"required column {required!r} is missing: no column is named or recognised "
                                   f"as {required}; map one (CLI --map {required}=COLUMN, HTTP map={required}:COLUMN)")
    position = {c: k for k, c in enumerate(header)}
    plan.used = sorted(_report(plan, kb, by), key=lambda entry: position[entry["column"]])
    return plan


def _find(wanted: str, header: list):
    """The header column ``wanted`` names: exactly, else the only one equal after trimming and case folding."""
    if wanted in header:
        return wanted
    folded = [c for c in header if c.strip().casefold() == str(wanted).strip().casefold()]
    return folded[0] if len(folded) == 1 else None


def _mapped_units_and_values(plan, names, mapping):
    for name, text in mapping.units.items():
        if name not in plan.fields:
            plan.problem(name, f"the mapping gives a unit for {name}, but no column is read as {name}")
            continue
        unit = names.unit_of(name, text)
        if unit is None:
            known = ", ".join(dict.fromkeys(names.units.get(name, {}).values()))
            plan.problem(name, f"{text!r} is not a unit of {name} ({known})")
        elif plan.units.get(name, unit) != unit:
            plan.problem(name, f"the mapping says {unit} but the header of {plan.fields[name]!r} says {plan.units[name]}")
        else:
            plan.units[name] = unit
            plan.unit_from[name] = "mapping"
    for name, table in mapping.values.items():
        if name not in plan.fields:
            plan.problem(name, f"the mapping gives values for {name}, but no column is read as {name}")
            continue
        plan.values[name] = {**plan.values.get(name, {}), **table}


def _report(plan, kb, by) -> list:
    quantities = kb.units["quantities"]
    out = []
    for key, column in plan.fields.items():
        name = key.removesuffix("_unit") if key not in FIELD_BY_NAME else key
        entry = {"column": column, "field": key, "by": by.get(key, "name")}
        f = FIELD_BY_NAME[name]
        if key == name and f.kind == "number" and len(quantities[name]["units"]) > 1:
            if name in plan.units:
                entry["unit"], entry["unit_from"] = plan.units[name], plan.unit_from[name]
            elif f"{name}_unit" in plan.fields:
                entry["unit"], entry["unit_from"] = None, f"unit column {plan.fields[f'{name}_unit']!r}"
            elif quantities[name].get("plausible"):
                entry["unit"], entry["unit_from"] = None, ("each value: written in the cell, else the only unit in "
                                                           "which the value is plausible (two: an error)")
            else:
                entry["unit"], entry["unit_from"] = quantities[name]["canonical"], "the default (no unit given)"
        if name in plan.values:
            entry["values"] = len(plan.values[name])
        out.append(entry)
    return out
