"""The compact summary view, and the choice between the summary, standard and full views."""
from __future__ import annotations

import math

from riskservice.core.render.answer import disclaimer_for, not_applicable_reasons, render_one, render_standard
from riskservice.core.render.row import RowView

VIEWS = ("summary", "standard", "full")
SUMMARY_MECHANISMS = 3


def render_summary(engine, ev, i: int, audience: str, meta: dict, require_approved: bool = False) -> dict:
    """A compact answer (under 2 kB) read straight from the evaluation's arrays: points, band,
    probability with its outcome, flagged indices, top mechanisms, missing inputs, disclaimer and
    versions. No contribution, text, narrative or reference is built."""
    kb = engine.kb
    row = RowView(engine, ev, i)
    not_applicable = not_applicable_reasons(row)
    if not_applicable:
        return {"view": "summary", "applicable": False, "not_applicable": not_applicable,
                "diabetes_range": bool(ev.diabetes_range[i]), "disclaimer": disclaimer_for(kb, audience),
                "meta": {**meta, "audience": audience}}
    if require_approved and engine.unapproved_rows(ev)[i]:
        render_standard(engine, ev, i, audience, meta, require_approved=True)  # raises, naming the entries
    thresholds = kb.ruleset["bands"]["thresholds"]
    headroom = int(ev.headroom[i])
    out = {
        "view": "summary",
        "applicable": True,
        "diabetes_range": bool(ev.diabetes_range[i]),
        "points": int(ev.points[i]),
        "max_points": int(ev.max_points[i]),
        "band": thresholds[int(ev.band[i])]["id"],
        "lower_bound": headroom > 0,
    }
    if headroom:
        out["band_if_missing_were_maximal"] = thresholds[int(ev.band_if_max[i])]["id"]
    model = engine.model
    if model is None:
        out["probability"] = None
    else:
        out["probability"] = {"value": float(ev.probability[i]), "outcome": model.manifest["outcome"]["expression"]}
    flagged = {}
    for index in kb.indices:
        flag = ev.flagged.get(index["id"])
        if flag is not None and flag[1][i] >= 0 and flag[0][i]:
            flagged[index["id"]] = float(ev.indices[index["id"]][i])
    out["flagged_indices"] = flagged
    label = "patient_name" if audience == "patient" else "name"
    mechs = []
    count, weights = ev.mech_count[i].tolist(), ev.mech_weight[i].tolist()
    for j in ev.mech_order[i].tolist():
        if len(mechs) == SUMMARY_MECHANISMS:
            break
        if count[j] <= 0:
            continue
        mid = engine.mechanism_ids[j]
        mechs.append({"id": mid, "name": kb.mechanisms[mid][label], "weight": int(weights[j])})
    out["mechanisms"] = mechs
    out["missing_inputs"] = _missing_inputs(row)
    if out["diabetes_range"]:
        out["warnings"] = [{"code": "diabetes_range", "message": kb.ruleset["diabetes_range"]["message"]}]
    out["disclaimer"] = disclaimer_for(kb, audience)
    out["meta"] = {**meta, "audience": audience}
    return out


def _missing_inputs(row) -> list:
    """Inputs not given that a factor (one that applies to this patient) or an index needs."""
    ev, i = row.ev, row.i
    names = []
    variants = [t.variant[i].tolist() for t in ev.factors]
    present = ev.factor_present[i].tolist()
    for fid, factor, col, pair_pos, k in row.plan.factors:
        if fid is None:  # the medication list
            if row.sex in factor.get("sexes", ("female", "male")) and row.medications() is None:
                names.append(factor["input"])
            continue
        if variants[pair_pos][k] >= 0 and not present[col] and factor["input"] not in ev.indices:
            names.append(factor["input"])   # a factor scored on an index: its inputs are listed below
    for index in row.kb.indices:
        if math.isnan(ev.indices[index["id"]][i]):
            names.extend(name for name in index["inputs"] if row.value(name) is None)
    return list(dict.fromkeys(names))


def render_view(engine, ev, i: int, audience: str, meta: dict, view: str = "full",
                require_approved: bool = False) -> dict:
    """Row ``i`` rendered for ``view`` (summary, standard or full)."""
    if view == "summary":
        return render_summary(engine, ev, i, audience, meta, require_approved)
    if view == "standard":
        return render_standard(engine, ev, i, audience, meta, require_approved)
    return render_one(engine, ev, i, audience, meta, require_approved=require_approved)
