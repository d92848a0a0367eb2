"""The other parts of the single answer: indices, established scores, mechanisms,
warnings, assumptions and the model block."""
from __future__ import annotations

import math

import numpy as np

from riskservice.core.messages import exact, fmt


def indices_of(row):
    ev, i, kb = row.ev, row.i, row.kb
    plan = row.plan
    out, missing = {}, []
    for index in kb.indices:
        iid = index["id"]
        value = float(ev.indices[iid][i])
        if math.isnan(value):
            absent = [name for name in index["inputs"] if row.value(name) is None]
            missing.append({"kind": "index", "index": iid, "name": index["name"], "needs": absent})
            continue
        flag = ev.flagged.get(iid)
        cut, flagged = -1, None
        if flag is not None and flag[1][i] >= 0:
            cut, flagged = int(flag[1][i]), bool(flag[0][i])
        entry = out[iid] = plan.index_entry(index, cut, flagged)
        entry["value"] = value
    return out, missing


def established_of(row):
    ev, i, kb = row.ev, row.i, row.kb
    out = {}
    slots = row.plan.established
    row_items = row.items["established"]
    for sid, spec in kb.established["scores"].items():
        items, missing = [], []
        for pair_pos, k, item, variants, position, tops in slots[sid]:
            variant, band_of, present = row_items[pair_pos]
            v = variant[k]
            if v < 0:
                continue
            if not present[k]:
                missing.append((position, {"item": item["id"], "input": item["input"], "max_points": tops[v]}))
                continue
            band = variants[v]["bands"][band_of[k]]
            entry = {"item": item["id"], "input": item["input"], "value": row.value(item["input"]),
                     "points": band["points"], "rule": band["rule"]}
            if item["input"] == "antihypertensive":
                entry["source"] = (None, "hypertension", "medications")[int(ev.antihypertensive_source[i])]
            elif item["input"] == "antihypertensive_medication":
                entry["source"] = "medications" if row.medications() is not None else "hypertension"
            if item.get("input_note"):
                entry["note"] = item["input_note"]
            items.append((position, entry))
        s = ev.scores[sid]
        cats = spec["categories"]
        result = {
            "name": spec["name"],
            "outcome": spec["outcome"],
            "complete": bool(s["complete"][i]),
            "points": int(s["points"][i]),
            "items": [e for _, e in sorted(items, key=lambda t: t[0])],
            "missing": [e for _, e in sorted(missing, key=lambda t: t[0])],
            "references": list(spec["references"]),
        }
        low, high = cats[int(s["category"][i])]["id"], cats[int(s["category_max"][i])]["id"]
        if missing:
            result["points_range"] = [int(s["points"][i]), int(s["points_max"][i])]
            result["category"] = low if low == high else None
            result["category_range"] = [low, high]
            result["note"] = ("Some items are missing: points is a lower bound and the category is given only "
                              "when every possible answer leads to the same one.")
        else:
            result["category"] = low
        out[sid] = result
    return out


def mechanisms_of(row, contributions, indices):
    engine, ev, i = row.engine, row.ev, row.i
    plan = row.plan
    drivers, support = {}, {}
    for c in contributions:
        for mid in c["mechanisms"]:
            drivers.setdefault(mid, []).append({"factor": c["factor"], "label": c["label"], "points": c["points"]})
    spec_by_id = plan.index_by_id
    for ix_id, result in indices.items():
        if result.get("flagged"):
            for mid in spec_by_id[ix_id].get("mechanisms_when_flagged", []):
                support.setdefault(mid, []).append({"index": ix_id, "name": result["name"], "value": result["value"]})
    total = int(ev.points[i])
    count, weights = ev.mech_count[i].tolist(), ev.mech_weight[i].tolist()
    out = []
    for j in ev.mech_order[i].tolist():
        if count[j] <= 0:
            continue
        mid = engine.mechanism_ids[j]
        template = plan.mechanism[mid]
        weight = int(weights[j])
        m = template.copy()
        m["rank"] = len(out) + 1
        m["weight"] = weight
        m["share_of_points"] = round(weight / total, 4) if total else 0.0
        m["factors"] = drivers.get(mid, [])
        m["supporting_indices"] = support.get(mid, [])
        m["chain"] = template["chain"].copy()
        m["references"] = template["references"].copy()
        out.append(m)
    return out


def warnings_of(row):
    ev, i = row.ev, row.i
    out = []
    p = ev.parsed
    unit_given = p.unit_given[i].tolist()
    raw = row.raw
    for name, j, is_list in row.plan.fields:
        if j is not None and unit_given[j] and raw[j] != raw[j]:
            out.append({"field": f"{name}_unit", "message": f"{name}_unit was given without {name}; ignored"})
        if is_list and row.medications() is not None:
            notes = row.engine.classes_of(row.medications()).notes
            if notes:
                out.append({"field": "medications",
                            "unrecognised": [e for e, _, known in notes if not known],
                            "not_scored": [e for e, _, known in notes if known],
                            "message": medication_message(notes)})
    for mask, field, message in ev.implausible:
        if mask[i]:
            out.append({"field": field, "code": "implausible", "message": message})
    for mask, j, u, basis in ev.unit_inferred:
        if mask[i]:
            out.append({"field": row.cx.numeric[j], "code": "unit_inferred",
                        "message": unit_inferred_message(row.cx.unit_names[j][u], basis)})
    for mask, message in ev.caveats:
        if mask[i]:
            out.append({"field": "probability", "code": "subgroup_calibration", "message": message})
    w, h = row.number("weight"), row.number("height")
    if (w is None) != (h is None) and row.number("bmi") is None:
        which = "weight" if w is not None else "height"
        other = "height" if w is not None else "weight"
        out.append({"field": which, "message": f"{which} without {other}: BMI not derived"})
    return out


def unit_inferred_message(unit: str, basis: str) -> str:
    """The warning for a lab value read in the only unit that makes it plausible (the same text in
    the single answer and in a batch row; the single answer's ``assumed`` adds the numbers)."""
    return f"no unit given, so read as {unit}, the only unit in which the value lies within {basis}"


def inferred_units(row) -> list:
    """(text, field) for each lab value of this row whose unit was inferred (engine/units.py)."""
    ev, i, cx = row.ev, row.i, row.cx
    out = []
    for mask, j, u, basis in ev.unit_inferred:
        if mask[i]:
            name, unit = cx.numeric[j], cx.unit_names[j][u]
            raw, canonical = row.raw[j], cx.unit_names[j][cx.canonical_unit[j]]
            same = "" if unit == canonical else f" (= {fmt(row.values[j])} {canonical})"
            out.append((f"no unit given: {exact(raw)} read as {unit}{same}, the only unit in which it lies "
                        f"within {basis}", name))
    return out


def assumed_of(row):
    ev, i, cx = row.ev, row.i, row.cx
    out = []
    assumed = ev.assumed_unit[i].tolist()
    for j, name in enumerate(cx.numeric):
        if assumed[j]:
            out.append({"field": f"{name}_unit", "assumption": f"not given: {cx.unit_names[j][cx.canonical_unit[j]]} assumed"})
    for text, name in inferred_units(row):
        out.append({"field": f"{name}_unit", "assumption": text})
    if row.ethnicity is None and (row.number("bmi") is not None or row.number("waist") is not None):
        out.append({"field": "ethnicity", "assumption":
                    "not given: WHO/Europid BMI and waist cut-offs were applied"})
    return out


def model_of(row):
    """The insulin-resistance model's block: its probability with what it is a probability of (the
    ruleset's outcome text), contributions and imputations; ``probability`` null with ``withheld``
    when the outcome was measured or the model is not installed. None when the models are off."""
    from riskservice.core.render.outcome import probability_withheld

    models = row.engine.models
    if models is None:
        return None
    ev, i = row.ev, row.i
    outcome = row.kb.ruleset["outcome"]["text"]
    model = models.insulin_resistance
    withheld = probability_withheld(row)
    if model is None or withheld is not None:      # no probability, nor its logit, for a measured outcome
        return {"probability": None, "withheld": withheld, "outcome": outcome,
                "model_id": model.model_id if model else None, "version": model.version if model else None}
    terms = ev.model_terms[i]
    derived = {
        "age": row.number("age"), "sex": row.sex, "ethnicity": row.ethnicity, "bmi": row.number("bmi"),
        "bmi_derived": False, "waist": row.number("waist"), "height": row.number("height"),
        "waist_to_height": None, "hdl_cholesterol": row.number("hdl_cholesterol"),
        "smoking": row.choice("smoking"), "mvpa_minutes_per_week": row.number("mvpa_minutes_per_week"),
        "sedentary_hours_per_day": row.number("sedentary_hours_per_day"),
        "sleep_hours_per_night": row.number("sleep_hours_per_night"),
        "hypertension": row.choice("hypertension"), "fasting": row.choice("fasting"),
        "triglycerides": row.number("triglycerides"), "hba1c": row.number("hba1c"),
        "family_history_diabetes": row.choice("family_history_diabetes"),
        "gestational_diabetes": row.choice("gestational_diabetes"),
        "labs_given": _labs_given(row),
    }
    if "waist_to_height" in model.term_names:
        x = terms[model.term_names.index("waist_to_height")]
        derived["waist_to_height"] = None if math.isnan(x) else float(x)
    block = model.explain(float(ev.logit[i]), ev.model_contrib[i].tolist(), np.isnan(terms).tolist(), derived,
                          probability=float(ev.probability[i]))
    block["outcome_definition"], block["outcome"] = block["outcome"], outcome
    return {"probability": block.pop("probability"), "withheld": withheld, **block}


def _labs_given(row) -> int:
    """The labs a model may take that were given, as bits (triglycerides only when fasting)."""
    from riskservice.model.features import LAB_BITS
    tg = row.number("triglycerides") is not None and row.choice("fasting") is True
    return ((row.number("hdl_cholesterol") is not None) * LAB_BITS["hdl"] + tg * LAB_BITS["tg"]
            + (row.number("hba1c") is not None) * LAB_BITS["a1c"])


def medication_message(notes) -> str:
    """One line for the entries of a list that do not score, each with its reason."""
    return " ".join(f"{entry!r}: {message}" for entry, message, _ in notes)
