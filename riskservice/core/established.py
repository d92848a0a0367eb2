"""Established questionnaire scores clinicians already know (FINDRISC, ADA/CDC risk test).

They are computed exactly as published from the same inputs; when an item is missing the
score is reported as a range (lower bound .. lower bound + the item's maximum), never as
if the missing answer were "no".
"""
from __future__ import annotations

from riskservice.core.rules import band_for, select_variant


def derived_inputs(values: dict, patient, kb) -> dict:
    """Inputs the questionnaires ask for that the flat schema expresses differently."""
    spec = kb.established["derived_inputs"]["antihypertensive"]
    on_drug = any(c in spec["drug_classes"] for c in patient.drug_classes)
    hyper = values.get("hypertension")
    if hyper is True or on_drug:
        value, source = True, ("hypertension" if hyper else "medications")
    elif hyper is False:
        value, source = False, "hypertension"
    else:
        value, source = None, None
    return {"antihypertensive": value, "_antihypertensive_source": source}


def score_established(patient, kb) -> dict:
    values = dict(patient.values)
    derived = derived_inputs(values, patient, kb)
    values.update(derived)
    ctx = {"sex": values["sex"], "ethnicity": values.get("ethnicity")}
    return {sid: _score_one(spec, values, ctx, derived) for sid, spec in kb.established["scores"].items()}


def _score_one(spec, values, ctx, derived):
    items, missing, points, headroom = [], [], 0, 0
    for item in spec["items"]:
        if ctx["sex"] not in item.get("sexes", ("female", "male")):
            continue
        variant = select_variant(item, ctx)
        value = values.get(item["input"])
        if value is None:
            top = max(b["points"] for b in variant["bands"])
            missing.append({"item": item["id"], "input": item["input"], "max_points": top})
            headroom += top
            continue
        band = band_for(variant["bands"], value)
        entry = {"item": item["id"], "input": item["input"], "value": value,
                 "points": band["points"], "rule": band["rule"]}
        if item["input"] == "antihypertensive":
            entry["source"] = derived["_antihypertensive_source"]
        if item.get("input_note"):
            entry["note"] = item["input_note"]
        items.append(entry)
        points += band["points"]
    out = {
        "name": spec["name"],
        "outcome": spec["outcome"],
        "complete": not missing,
        "points": points,
        "items": items,
        "missing": missing,
        "references": list(spec["references"]),
    }
    if missing:
        out["points_range"] = [points, points + headroom]
        low, high = _category(spec, points), _category(spec, points + headroom)
        out["category"] = low if low == high else None
        out["category_range"] = [low, high]
        out["note"] = "Some items are missing: points is a lower bound and the category is given only when every possible answer leads to the same one."
    else:
        out["category"] = _category(spec, points)
    return out


def _category(spec, points):
    chosen = None
    for cat in spec["categories"]:
        if points >= cat["min_points"]:
            chosen = cat["id"]
    return chosen
