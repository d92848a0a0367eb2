"""Marshmallow schema of the flat input, built from :mod:`riskservice.core.fields`.

This is the published contract (``schemas/request.schema.json``, the OpenAPI document). Requests
are checked by :mod:`riskservice.core.inputs`, generated from the same field table, so the two
cannot drift: ``tests/core/test_contract_agreement.py`` sends the same hostile values to both.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from riskservice.core import units as unit_table
from riskservice.core.fields import FIELDS


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
