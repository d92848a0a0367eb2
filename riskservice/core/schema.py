"""Marshmallow schema of the flat input, built from :mod:`riskservice.core.fields`.

This is the published contract (``schemas/request.schema.json``, the OpenAPI document). Requests
are checked by :mod:`riskservice.core.inputs`, generated from the same field table, so the two
cannot drift: ``tests/core/test_contract_agreement.py`` sends the same hostile values to both.
"""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from riskservice.core import units as unit_table
from riskservice.core.fields import FIELDS

# a number with an optional unit after it, or a missing-value spelling (NA, null, ...); the unit is
# checked by the service (a string the pattern allows may still be refused, never the reverse)
NUMBER_TEXT = (r"^\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(\s*[^\s\d.,+-].*)?"
               r"|[nN][aA]|[nN]/[aA]|[nN][aA][nN]|[nN][uU][lL][lL])?\s*$")
YES_NO = ("true", "false", "yes", "no", "y", "n", "t", "f", "1", "0")


class StrictFloat(fields.Float):
    """A JSON number, or a string that is unambiguously one with an optional unit of the field
    (``"52"``, ``"5.4 mmol/L"``; the service checks the unit); never a boolean, NaN or infinity."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            import re

            if not re.match(NUMBER_TEXT, value):
                raise ValidationError("Not a number.")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a number: send a JSON number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON true or false, or a yes/no word (``"yes"``, ``"N"``); never a number read as a guess."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().lower() in YES_NO:
            return value.strip().lower() in YES_NO[::2]
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
            common["metadata"].update({"type": ["number", "string"], "pattern": NUMBER_TEXT})
            attrs[f.name] = StrictFloat(allow_nan=False, **common)
        elif f.kind == "enum":
            # the choices, trimmed and in any case, or a listed spelling ("M", "ex-smoker"):
            # knowledge/input_synonyms.json; anything else is refused with a suggestion
            common["metadata"]["x-choices"] = list(f.choices)
            attrs[f.name] = fields.String(**common)
        elif f.kind == "bool":
            common["metadata"].update({"type": ["boolean", "string"], "x-yes-no-words": list(YES_NO)})
            attrs[f.name] = StrictBoolean(**common)
        elif f.kind == "list":
            common["metadata"]["description"] += " A single string is split at ';'."
            common["metadata"]["type"] = ["array", "string"]
            attrs[f.name] = fields.List(
                fields.String(validate=validate.Length(min=1, max=100)),
                validate=validate.Length(max=50), **common)
        if f.has_unit:
            choices = unit_table.accepted_units(kb, f.name)
            attrs[f"{f.name}_unit"] = fields.String(
                allow_none=True,
                metadata={"description": f"Unit of {f.name} (UCUM: {', '.join(choices)}; any case, or a listed "
                                         "spelling such as IU/L or µU/mL). Without it, a body measure is read in its "
                                         "default unit and a lab value in the only unit in which it is plausible "
                                         "(two: an error naming both readings).",
                          "x-units": choices})

    class Meta:
        unknown = RAISE

    attrs["Meta"] = Meta
    return type("PatientIn", (Schema,), attrs)
