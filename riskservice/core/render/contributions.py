"""The rules part of the single answer: each factor's and medicine's contribution, the
exclusive-group notes, the total, its band and the factors not given."""
from __future__ import annotations

from riskservice.core.render.plan import effect_summary


def rules_of(row):
    ev, i, kb = row.ev, row.i, row.kb
    plan = row.plan
    contributions, missing = [], []
    present, missing_top, counted = ev.factor_present[i].tolist(), ev.missing_top[i].tolist(), ev.counted[i].tolist()
    items = row.items["factors"]
    for fid, factor, col, pair_pos, k in plan.factors:
        if fid is None:  # the medication list
            if row.sex not in factor.get("sexes", ("female", "male")):
                continue
            meds = row.medications()
            if meds is None:
                missing.append(_missing(factor, plan.medications_max))
            else:
                contributions.extend(_drug_contributions(row, meds))
            continue
        variants, bands, _ = items[pair_pos]
        v = variants[k]
        if v < 0:
            continue
        if not present[col]:
            entry = _missing(factor, missing_top[col])
            if fid in row.engine.fasting_factors and ev.triglycerides_unscored[i] \
                    and row.value(factor["input"]) is not None:
                entry["kind"] = "not_scored"       # given, but the labs were not drawn fasting
                entry["reason"] = kb.ruleset["triglycerides_not_fasting"]["text"]
            missing.append(entry)
            continue
        contributions.append(_contribution(row, plan.contribution[fid, v, bands[k]], counted[col]))
    for group in kb.ruleset.get("exclusive_groups", []):
        members = [c for c in contributions if c["factor"] in group["factors"]]
        best = next((c for c in members if c["points"]), None)
        for c in members:
            if best is not None and c is not best and c["band_points_raw"]:
                c["band_points"] = c["band_points_raw"]
                c["note"] = (f"{group['label']}: only the highest of {', '.join(group['factors'])} "
                             f"counts (here {best['factor']}); {group['reason']}")
    for c in contributions:
        c.pop("band_points_raw", None)
    total = int(ev.points[i])
    headroom = int(ev.headroom[i])
    thresholds = kb.ruleset["bands"]["thresholds"]
    result = {
        "points": total,
        "max_points": int(ev.max_points[i]),
        "band": thresholds[int(ev.band[i])]["id"],
        "base_relative_risk": kb.base_relative_risk,
        "contributions": contributions,
        "lower_bound": headroom > 0,
    }
    if headroom:
        result["band_if_missing_were_maximal"] = thresholds[int(ev.band_if_max[i])]["id"]
        statement = (f"{len([m for m in missing if m['max_points']])} factor(s) were not given"
                     f"{' (or not scored)' if any(m['kind'] == 'not_scored' for m in missing) else ''} and could add up to "
                     f"{headroom} point(s): the total of {total} is a lower bound")
        floors = _lowest_points(kb)
        below = sum(floors.get(m.get("factor"), 0) for m in missing if m["kind"] == "factor")
        if below < 0:
            statement += (f" for the risk factors; labs not given count as typical values (0 points) and could also "
                          f"lower it, by up to {-below} point(s)")
        result["lower_bound_statement"] = statement + "."
    return result, missing


_FLOORS: dict = {}


def _lowest_points(kb) -> dict:
    """factor id -> its lowest band's points when below 0 (the labs, whose base is a typical value)."""
    floors = _FLOORS.get(kb.sha256)
    if floors is None:
        floors = _FLOORS[kb.sha256] = {
            f["id"]: low for f in kb.factors
            if (low := min((b["points"] for v in f.get("variants", []) for b in v["bands"]), default=0)) < 0}
    return floors


def _missing(factor, top):
    return {"kind": "factor", "factor": factor["id"], "label": factor["label"],
            "input": factor["input"], "max_points": top}


def _contribution(row, template, counted_points):
    """The band's contribution (plan.contribution_template) with this patient's values."""
    name = template["input"]
    value = row.value(name)
    given = row.given(name)
    entry = template.copy()
    if given:
        entry["value"], entry["unit"] = given["value"], given["unit"]
    else:
        entry["value"] = value
    entry["canonical_value"] = value
    entry["points"] = counted_points
    entry["mechanisms"] = template["mechanisms"].copy()
    entry["references"] = template["references"].copy()
    if "effect" in template:
        entry["effect"] = template["effect"].copy()
    return entry


def _drug_contributions(row, entries):
    kb = row.kb
    matches = row.engine.classes_of(entries).matches
    out = []
    for class_id in matches:
        cls = kb.drug_by_id[class_id]
        entry = {
            "factor": f"medication:{class_id}",
            "label": cls["name"],
            "input": "medications",
            "value": list(matches[class_id]),
            "unit": None,
            "canonical_value": class_id,
            "canonical_unit": None,
            "band": "taking",
            "band_label": f"taking {cls['name'].lower()}",
            "points": cls["points"],
            "band_points_raw": cls["points"],
            "rule": f"any of ATC {', '.join(cls['atc_prefixes'])} or the listed generic names",
            "population": cls.get("population", ""),
            "modifiable": True,
            "mechanisms": list(cls["mechanisms"]),
            "evidence": cls["evidence"],
            "references": list(cls["references"]),
        }
        if cls.get("effect"):
            entry["effect"] = effect_summary(cls["effect"])
        if cls.get("note"):
            entry["note"] = cls["note"]
        out.append(entry)
    return out
