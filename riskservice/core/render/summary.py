"""The compact summary view, and the choice between the summary, standard and full views."""
from __future__ import annotations

import math

from riskservice.core.render import outcome as O
from riskservice.core.render.answer import disclaimer_for, not_applicable_reasons, render_one, render_standard
from riskservice.core.render.row import RowView

VIEWS = ("summary", "standard", "full")
SUMMARY_MECHANISMS = 3


def render_summary(engine, ev, i: int, audience: str, meta: dict, require_approved: bool = False) -> dict:
    """A compact answer (under 2 kB) read straight from the evaluation's arrays: what leads (a
    valid measured HOMA-IR, or the risk-factor estimate), points, band, both probabilities with
    their outcomes (or why each is withheld), flagged indices, top mechanisms, missing inputs,
    disclaimer and versions. No contribution, narrative or reference is built."""
    kb = engine.kb
    row = RowView(engine, ev, i)
    not_applicable = not_applicable_reasons(row, audience)
    if not_applicable:
        out = {"view": "summary", "applicable": False, "diabetes_range": bool(ev.diabetes_range[i])}
        if out["diabetes_range"]:     # the diabetes range leads, also when the score does not apply
            out["warnings"] = [_summary_warning(O.diabetes_range_warning(row))]
        out["not_applicable"], out["leads"] = not_applicable, None
        out["probability"], out["dysglycaemia_probability"] = O.not_applicable_probabilities(row, not_applicable)
        out["disclaimer"] = disclaimer_for(kb, audience)
        out["meta"] = {**meta, "audience": audience}
        return out
    if require_approved and engine.unapproved_rows(ev)[i]:
        render_standard(engine, ev, i, audience, meta, require_approved=True)  # raises, naming the entries
    thresholds = kb.ruleset["bands"]["thresholds"]
    headroom = int(ev.headroom[i])
    out = {
        "view": "summary",
        "applicable": True,
        "diabetes_range": bool(ev.diabetes_range[i]),
        "leads": O.leads(row),
        "measured_homa_ir": O.measured_summary(row),
        "points": int(ev.points[i]),
        "max_points": int(ev.max_points[i]),
        "band": thresholds[int(ev.band[i])]["id"],
        "lower_bound": headroom > 0,
    }
    if headroom:
        out["band_if_missing_were_maximal"] = thresholds[int(ev.band_if_max[i])]["id"]
    out["probability"] = O.probability_summary(row)
    out["dysglycaemia_probability"] = O.dysglycaemia_summary(row)
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
    warnings = [O.diabetes_range_warning(row)] if out["diabetes_range"] else []
    unscored = O.triglycerides_warning(row)
    if unscored:
        warnings.append(unscored)
    if warnings:
        out["warnings"] = [_summary_warning(w) for w in warnings]
    out["disclaimer"] = disclaimer_for(kb, audience)
    out["meta"] = {**meta, "audience": audience}
    return out


def _summary_warning(warning: dict) -> dict:
    return {"code": warning["code"], "message": warning["message"]}


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
        if variants[pair_pos][k] >= 0 and not present[col] and factor["input"] not in ev.indices \
                and row.value(factor["input"]) is None:   # given but not scored (triglycerides, not fasting): not missing
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
