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
