"""An explicit column mapping: "my column X is field Y (in unit U, with these codes)".

Every tabular surface takes the same mapping: the CLI (``--map FIELD=COLUMN``, ``--map-file``
JSON or TOML), HTTP (``map=FIELD:COLUMN``, ``ignore=COLUMN``, ``unit=FIELD:UNIT`` or a
``mapping`` JSON object), Dask/Parquet (``mapping=``) and the batch page's mapping step. The shape
of a mapping object (a file holds the same)::

    {"columns": {"sex": "RIAGENDR", "fasting_glucose": {"column": "LBXGLU", "unit": "mg/dL"}},
     "values": {"sex": {"1": "male", "2": "female"}, "known_diabetes": {"1": true, "2": false}},
     "ignore": ["SEQN"]}

This module only reads and checks the shape; :func:`riskservice.core.header.plan_columns`
applies it to a header (the column must exist, the unit must be one of the field's units).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELD_BY_NAME, UNIT_FIELDS

KEYS = ("columns", "values", "ignore", "units")
MAX_ENTRIES = 1000


class MappingProblem(ValidationProblem):
    """The mapping itself is malformed (422, before anything is read)."""

    def __init__(self, errors, title="Invalid column mapping"):
        super().__init__(errors, title=title)


@dataclass
class Mapping:
    columns: dict = field(default_factory=dict)   # field -> column name
    units: dict = field(default_factory=dict)     # field -> unit as written (checked against units.json later)
    values: dict = field(default_factory=dict)    # field -> {cell text: value}; value None = not given
    ignore: list = field(default_factory=list)    # columns passed through on purpose

    def __bool__(self):
        return bool(self.columns or self.units or self.values or self.ignore)

    def merged(self, other: Mapping) -> Mapping:
        """This mapping with ``other``'s entries on top (a later --map beats the file)."""
        return Mapping({**self.columns, **other.columns}, {**self.units, **other.units},
                       {**self.values, **other.values}, list(dict.fromkeys(self.ignore + other.ignore)))

    def as_dict(self) -> dict:
        columns = {f: ({"column": c, "unit": self.units[f]} if f in self.units else c) for f, c in self.columns.items()}
        return {"columns": columns, "values": self.values, "ignore": self.ignore,
                **({"units": {f: u for f, u in self.units.items() if f not in self.columns}} if
                   set(self.units) - set(self.columns) else {})}


def parse(doc) -> Mapping:
    """A Mapping from a decoded JSON/TOML object; MappingProblem listing every fault."""
    problems: dict = {}

    def bad(where, message):
        problems.setdefault(where, []).append(message)

    if not isinstance(doc, dict):
        raise MappingProblem({"mapping": ["A mapping is an object with 'columns', 'values', 'ignore' and 'units'."]})
    for key in doc:
        if key not in KEYS:
            bad("mapping", f"unknown key {key!r}; the keys are {', '.join(KEYS)}")
    out = Mapping()
    columns = doc.get("columns", {})
    if not isinstance(columns, dict):
        bad("columns", "must be an object of field -> column name (or {\"column\": ..., \"unit\": ...})")
        columns = {}
    for name, target in list(columns.items())[:MAX_ENTRIES]:
        if not _field_ok(name, bad, "columns", units_too=True):
            continue
        if isinstance(target, dict) and name not in UNIT_FIELDS:
            extra = set(target) - {"column", "unit"}
            if extra or not isinstance(target.get("column"), str):
                bad(f"columns.{name}", "must be a column name, or {\"column\": NAME, \"unit\": UNIT}")
                continue
            if "unit" in target:
                if not isinstance(target["unit"], str) or not FIELD_BY_NAME[name].kind == "number":
                    bad(f"columns.{name}", "unit must be a string, and only numeric fields have units")
                    continue
                out.units[name] = target["unit"]
            target = target["column"]
        if not isinstance(target, str) or not target.strip():
            bad(f"columns.{name}", "must be a column name")
            continue
        out.columns[name] = target
    units = doc.get("units", {})
    if not isinstance(units, dict):
        bad("units", "must be an object of field -> unit")
        units = {}
    for name, unit in units.items():
        if _field_ok(name, bad, "units"):
            if not isinstance(unit, str) or FIELD_BY_NAME[name].kind != "number":
                bad(f"units.{name}", "must be a unit (a string) of a numeric field")
            else:
                out.units[name] = unit
    values = doc.get("values", {})
    if not isinstance(values, dict):
        bad("values", "must be an object of field -> {cell text: value}")
        values = {}
    for name, table in values.items():
        if not _field_ok(name, bad, "values"):
            continue
        if not isinstance(table, dict) or len(table) > MAX_ENTRIES:
            bad(f"values.{name}", f"must be an object of at most {MAX_ENTRIES} cell texts -> values")
            continue
        kind = FIELD_BY_NAME[name].kind
        clean = {}
        for text, value in table.items():
            value = None if value == "" else value      # "" (TOML has no null): not given
            problem = _value_problem(name, kind, value)
            if problem:
                bad(f"values.{name}", f"{text!r}: {problem}")
            else:
                clean[str(text).strip().lower()] = value
        out.values[name] = clean
    ignore = doc.get("ignore", [])
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, list) or not all(isinstance(c, str) for c in ignore):
        bad("ignore", "must be a list of column names")
        ignore = []
    out.ignore = list(dict.fromkeys(ignore))[:MAX_ENTRIES]
    if problems:
        raise MappingProblem(problems)
    return out


def _field_ok(name, bad, where, units_too=False) -> bool:
    if name in FIELD_BY_NAME or (units_too and name in UNIT_FIELDS):
        return True
    from riskservice.core.names import squash

    close = [f for f in FIELD_BY_NAME if squash(f) == squash(str(name))]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    bad(f"{where}.{name}", f"{name!r} is not a field{hint}")
    return False


def _value_problem(name, kind, value):
    f = FIELD_BY_NAME[name]
    if value is None:
        return None
    if kind == "enum":
        return None if value in f.choices else f"must map to one of {', '.join(f.choices)} (or null)"
    if kind == "bool":
        return None if isinstance(value, bool) else "must map to true, false or null"
    if kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else "must map to a number or null"
    return "medication lists have no value map"


def pairs(items, sep: str, what: str = "map") -> Mapping:
    """``FIELD<sep>COLUMN`` pairs (``--map age=Age``, ``map=age:Age``) as a Mapping; ``unit`` pairs
    (``FIELD<sep>UNIT``) with ``what='unit'``."""
    doc: dict = {"columns": {}, "units": {}}
    problems: dict = {}
    for item in items:
        name, found, target = str(item).partition(sep)
        if not found or not name.strip() or not target.strip():
            problems.setdefault(what, []).append(f"{item!r} is not FIELD{sep}{'UNIT' if what == 'unit' else 'COLUMN'}")
            continue
        doc["columns" if what == "map" else "units"][name.strip()] = target.strip() if what == "unit" else target
    if problems:
        raise MappingProblem(problems)
    return parse(doc)


def load(path) -> Mapping:
    """A mapping file: JSON, or TOML when the name ends in .toml."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingProblem({"map_file": [f"cannot read {path}: {exc.strerror or exc}"]}) from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            doc = tomllib.loads(data.decode("utf-8"))
        else:
            doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MappingProblem({"map_file": [f"{path.name} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: "
                                           f"{exc}"]}) from None
    return parse(doc)


def from_json_text(text: str) -> Mapping:
    """A mapping sent as JSON text (an HTTP query parameter or form field)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise MappingProblem({"mapping": [f"not valid JSON: {exc}"]}) from None
    return parse(doc)
