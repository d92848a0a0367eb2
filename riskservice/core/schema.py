"""Marshmallow schema of the flat input, built from :mod:`riskservice.core.fields`.

Types, enums and unit strings are checked here; unit conversion, plausibility ranges and
cross-field rules live in :mod:`riskservice.core.patient` so that JSON and CSV share them.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from riskservice.core.fields import FIELDS
from riskservice.core import units as unit_table


class StrictFloat(fields.Float):
    """A JSON number only: no strings, no booleans, no NaN or infinity."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a number: send a JSON number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false only, so that "no" or 0 is never read as a guess."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a boolean: send true or false.")
        return value


def build_patient_schema(kb) -> type:
    """Create the ``PatientIn`` schema class for the units accepted by ``kb``."""
    attrs = {}
    for f in FIELDS:
        common = {"required": f.required, "allow_none": not f.required,
                  "metadata": {"description": f.description}}
        if f.kind == "number":
            lo, hi = unit_table.bounds(kb, f.name)
            common["metadata"]["x-canonical-unit"] = unit_table.canonical_unit(kb, f.name)
            common["metadata"]["x-canonical-range"] = [lo, hi]
            attrs[f.name] = StrictFloat(allow_nan=False, **common)
        elif f.kind == "enum":
            attrs[f.name] = fields.String(validate=validate.OneOf(f.choices), **common)
        elif f.kind == "bool":
            attrs[f.name] = StrictBoolean(**common)
        elif f.kind == "list":
            attrs[f.name] = fields.List(
                fields.String(validate=validate.Length(min=1, max=100)),
                validate=validate.Length(max=50), **common)
        if f.has_unit:
            choices = unit_table.accepted_units(kb, f.name)
            attrs[f"{f.name}_unit"] = fields.String(
                allow_none=True, validate=validate.OneOf(choices),
                metadata={"description": f"Unit of {f.name} (UCUM); default "
                                         f"{unit_table.canonical_unit(kb, f.name)}."})

    class Meta:
        unknown = RAISE

    attrs["Meta"] = Meta
    return type("PatientIn", (Schema,), attrs)


def build_fast_loader(kb):
    """A checker that returns exactly what ``PatientIn().load`` returns for well-formed input,
    or None as soon as anything is off (then marshmallow runs and reports every problem).

    marshmallow stays the contract and the error reporter; this only skips its per-field
    machinery on the common, valid request (tests/core/test_fast_loader.py proves equality).
    """
    specs = {}
    for f in FIELDS:
        specs[f.name] = (f.kind, frozenset(f.choices), f.required)
        if f.has_unit:
            specs[f"{f.name}_unit"] = ("unit", frozenset(unit_table.accepted_units(kb, f.name)), False)
    required = [f.name for f in FIELDS if f.required]

    def load(raw: dict):
        for name in required:
            if raw.get(name) is None:
                return None
        out = {}
        for key, value in raw.items():
            spec = specs.get(key)
            if spec is None:
                return None
            kind, choices, req = spec
            if value is None:
                if req:
                    return None
                out[key] = None
            elif kind == "number":
                if value.__class__ is bool or not isinstance(value, (int, float)):
                    return None
                value = float(value)
                if value != value or value in (float("inf"), float("-inf")):
                    return None
                out[key] = value
            elif kind == "enum" or kind == "unit":
                if value.__class__ is not str or value not in choices:
                    return None
                out[key] = value
            elif kind == "bool":
                if value.__class__ is not bool:
                    return None
                out[key] = value
            else:  # list of medication strings
                if value.__class__ is not list or len(value) > 50:
                    return None
                for item in value:
                    if item.__class__ is not str or not 1 <= len(item) <= 100:
                        return None
                out[key] = list(value)
        return out

    return load
