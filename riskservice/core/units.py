"""Unit conversion to canonical units, driven by ``knowledge/units.json``.

One table serves the single-patient path (plain floats) and the batch path (numpy arrays):
``canonical = value * factor + offset``.
"""
from __future__ import annotations


def quantity(kb, field: str) -> dict:
    return kb.units["quantities"][field]


def canonical_unit(kb, field: str) -> str:
    return quantity(kb, field)["canonical"]


def accepted_units(kb, field: str) -> list:
    return list(quantity(kb, field)["units"])


def to_canonical(kb, field: str, value, unit: str):
    """Convert ``value`` (float or numpy array) given in ``unit`` to the canonical unit."""
    spec = quantity(kb, field)["units"][unit]
    out = value * spec["factor"]
    offset = spec.get("offset")
    return out + offset if offset else out


def constant(kb, name: str) -> float:
    return kb.units["constants"][name]["value"]


def bounds(kb, field: str):
    lo, hi = quantity(kb, field)["bounds"]
    return lo, hi


#: Unit codes (UCUM, as the API and FHIR send them) as people write them, for pages and patient
#: texts; a code missing here is already written the usual way (kg, mg/dL, mmol/L). Typography
#: only: the conversions stay in knowledge/units.json.
DISPLAY = {"[lb_av]": "lb", "[in_i]": "in", "kg/m2": "kg/m²", "min/wk": "min/week", "h/wk": "h/week",
           "h/d": "h/day", "uU/mL": "µU/mL", "u[IU]/mL": "µIU/mL", "m[IU]/L": "mIU/L", "[IU]/L": "IU/L",
           "ukat/L": "µkat/L"}


def display_names(kb) -> dict:
    """Every unit code of the knowledge -> the unit as people write it (``[lb_av]`` -> ``lb``)."""
    return {code: DISPLAY.get(code, code) for q in kb.units["quantities"].values() for code in q["units"]}


def display(kb, code: str | None) -> str:
    """One unit code as people write it; unknown codes come back unchanged."""
    if not code:
        return ""
    return DISPLAY.get(code, code)

