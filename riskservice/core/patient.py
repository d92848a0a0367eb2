"""Turn typed input into canonical values, checking ranges and cross-field rules.

Every problem is collected (never just the first) so a caller can fix a request in one go.
Nothing is filled in silently: a default unit or cut-off choice goes to ``assumed``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from riskservice.core import units as unit_table
from riskservice.core.fields import FIELDS


@dataclass
class Patient:
    values: dict                                  # canonical values, None-free
    given: dict = field(default_factory=dict)     # field -> {"value", "unit"} as sent
    assumed: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    drug_classes: list = field(default_factory=list)   # matched class ids, input order
    drug_matches: dict = field(default_factory=dict)   # class id -> entries that matched


def fmt(x: float) -> str:
    """Short human number for messages: 4 significant digits, no trailing zeros."""
    if float(x).is_integer() and abs(x) < 1e9:
        return str(int(x))
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.4g}"


def range_message(kb, name, value, unit, canonical_value):
    """The 422 text for an out-of-range value: field value, unit and the allowed range."""
    lo, hi = unit_table.bounds(kb, name)
    canon = unit_table.canonical_unit(kb, name)
    spec = unit_table.quantity(kb, name)["units"][unit]
    if unit == canon:
        return f"{fmt(value)} {unit} is outside the accepted range {fmt(lo)}-{fmt(hi)} {canon}"
    off = spec.get("offset", 0.0)
    glo, ghi = (lo - off) / spec["factor"], (hi - off) / spec["factor"]
    return (f"{fmt(value)} {unit} (= {fmt(canonical_value)} {canon}) is outside the accepted range "
            f"{fmt(glo)}-{fmt(ghi)} {unit} ({fmt(lo)}-{fmt(hi)} {canon})")


def normalise(data: dict, kb, errors: dict) -> Patient:
    """Convert ``data`` (already type-checked) to a Patient; add problems to ``errors``."""
    p = Patient(values={})
    for f in FIELDS:
        value = data.get(f.name)
        unit_key = f"{f.name}_unit"
        if value is None:
            if f.has_unit and data.get(unit_key) is not None:
                p.warnings.append({"field": unit_key, "message":
                                   f"{unit_key} was given without {f.name}; ignored"})
            continue
        if f.kind == "number":
            if f"{f.name}_unit" in errors:
                continue  # unit already reported; a range check in an assumed unit would mislead
            _numeric(kb, f.name, value, data.get(unit_key), p, errors)
        elif f.kind == "list":
            _medications(kb, value, p)
        else:
            p.values[f.name] = value
    _bmi(kb, p, errors)
    _sex_specific(p, errors)
    if p.values.get("ethnicity") is None and ("bmi" in p.values or "waist" in p.values):
        p.assumed.append({"field": "ethnicity", "assumption":
                          "not given: WHO/Europid BMI and waist cut-offs were applied"})
    return p


def _numeric(kb, name, value, unit, p, errors):
    canon = unit_table.canonical_unit(kb, name)
    if unit is None:
        unit = canon
        if len(unit_table.accepted_units(kb, name)) > 1:
            p.assumed.append({"field": f"{name}_unit", "assumption": f"not given: {canon} assumed"})
    converted = unit_table.to_canonical(kb, name, float(value), unit)
    lo, hi = unit_table.bounds(kb, name)
    if not lo <= converted <= hi:
        errors.setdefault(name, []).append(range_message(kb, name, value, unit, converted))
        return
    p.values[name] = converted
    p.given[name] = {"value": value, "unit": unit}


def _medications(kb, entries, p):
    unknown = []
    for entry in entries:
        cls = kb.drug_class_for(entry)
        if cls is None:
            unknown.append(entry)
            continue
        if cls["id"] not in p.drug_matches:
            p.drug_classes.append(cls["id"])
            p.drug_matches[cls["id"]] = []
        p.drug_matches[cls["id"]].append(entry)
    p.values["medications"] = list(entries)
    if unknown:
        p.warnings.append({"field": "medications", "unrecognised": unknown, "message":
                           "not in the drug-class vocabulary, so not scored: "
                           + ", ".join(unknown)})


def _bmi(kb, p, errors):
    w, h = p.values.get("weight"), p.values.get("height")
    if w is None or h is None:
        if (w is None) != (h is None) and "bmi" not in p.values:
            which = "weight" if w is not None else "height"
            p.warnings.append({"field": which, "message":
                               f"{which} without {'height' if w is not None else 'weight'}: BMI not derived"})
        return
    derived = w / (h / 100.0) ** 2
    tol = unit_table.constant(kb, "BMI_CONSISTENCY_TOLERANCE")
    if "bmi" in p.values:
        given = p.values["bmi"]
        if abs(given - derived) / derived > tol:
            errors.setdefault("bmi", []).append(
                f"bmi {fmt(given)} disagrees with weight/height ({fmt(derived)} kg/m2) by more than "
                f"{tol:.0%}; send consistent values or only one of them")
        return
    lo, hi = unit_table.bounds(kb, "bmi")
    if not lo <= derived <= hi:
        errors.setdefault("bmi", []).append(
            f"BMI derived from weight and height is {fmt(derived)} kg/m2, outside the accepted "
            f"range {fmt(lo)}-{fmt(hi)} kg/m2; check the weight and height units")
        return
    p.values["bmi"] = derived
    p.given["bmi"] = {"value": round(derived, 2), "unit": "kg/m2", "derived_from": ["weight", "height"]}


def _sex_specific(p, errors):
    if p.values.get("sex") != "male":
        return
    for f in FIELDS:
        if f.female_only and p.values.get(f.name) is True:
            errors.setdefault(f.name, []).append(f"{f.name} applies only to female patients")
