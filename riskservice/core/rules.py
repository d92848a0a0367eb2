"""The rules score: a small fixed interpreter of the factor tables in ``factors.json``.

A factor picks a variant by sex and ethnicity, then the band its value falls in; the band
carries the points, the rule text and the citations. There is no expression language.
"""
from __future__ import annotations


_VARIANT_CACHE: dict = {}


def select_variant(factor: dict, ctx: dict):
    """First variant whose ``when`` conditions all hold for ``ctx`` (sex, ethnicity).

    Memoised per (factor object, sex, ethnicity): the tables are immutable once loaded."""
    key = (id(factor), ctx.get("sex"), ctx.get("ethnicity"))
    hit = _VARIANT_CACHE.get(key)
    if hit is not None and hit[0] is factor:
        return hit[1]
    chosen = _select(factor, ctx)
    _VARIANT_CACHE[key] = (factor, chosen)
    return chosen


def _select(factor, ctx):
    for variant in factor["variants"]:
        if all(ctx.get(key) in allowed for key, allowed in variant["when"].items()):
            return variant
    return None


def in_band(band: dict, value) -> bool:
    """Whether a scalar value falls in a band (numeric edges or categorical ``equals``)."""
    if "equals" in band:
        return value == band["equals"]
    lo, hi = band["lower"], band["upper"]
    if lo is not None and (value < lo or (value == lo and not band["lower_inclusive"])):
        return False
    if hi is not None and (value > hi or (value == hi and not band["upper_inclusive"])):
        return False
    return True


def band_for(bands: list, value):
    for band in bands:
        if in_band(band, value):
            return band
    return None


def total_band(kb, points: int) -> str:
    """The overall band: the highest ruleset band whose ``min_points`` is reached."""
    chosen = None
    for band in kb.ruleset["bands"]["thresholds"]:
        if points >= band["min_points"]:
            chosen = band["id"]
    return chosen


def applicable(factor: dict, sex: str) -> bool:
    return sex in factor.get("sexes", ("female", "male"))


def max_points(factor: dict, variant) -> int:
    return max(b["points"] for b in variant["bands"])


def medication_max(kb) -> int:
    return sum(c["points"] for c in kb.drug_classes)


def score_rules(patient, kb) -> dict:
    """Points per factor, total, maximum, band and what is missing, for one patient."""
    values = patient.values
    ctx = {"sex": values["sex"], "ethnicity": values.get("ethnicity")}
    contributions, missing, possible = [], [], 0
    for factor in kb.factors:
        if not applicable(factor, ctx["sex"]):
            continue
        if factor["kind"] == "medications":
            top = medication_max(kb)
            possible += top
            if "medications" not in values:
                missing.append(_missing(factor, top))
            else:
                contributions.extend(_drug_contributions(kb, factor, patient))
            continue
        variant = select_variant(factor, ctx)
        top = max_points(factor, variant)
        value = values.get(factor["input"])
        if value is None:
            missing.append(_missing(factor, top, variant))
            possible += top
            continue
        band = band_for(variant["bands"], value)
        contributions.append(_contribution(factor, variant, band, value, patient))
        possible += top
    _apply_groups(kb, contributions, missing)
    possible -= _group_overlap(kb, ctx)
    total = sum(c["points"] for c in contributions)
    headroom = _headroom(kb, missing)
    result = {
        "points": total,
        "max_points": possible,
        "band": total_band(kb, total),
        "base_relative_risk": kb.base_relative_risk,
        "contributions": contributions,
        "lower_bound": headroom > 0,
    }
    if headroom:
        result["band_if_missing_were_maximal"] = total_band(kb, total + headroom)
        result["lower_bound_statement"] = (
            f"{len([m for m in missing if m['max_points']])} factor(s) were not given and could add up to "
            f"{headroom} point(s): the total of {total} is a lower bound.")
    return result, missing


def _missing(factor, top, variant=None):
    return {"kind": "factor", "factor": factor["id"], "label": factor["label"],
            "input": factor["input"], "max_points": top}


def _contribution(factor, variant, band, value, patient):
    given = patient.given.get(factor["input"], {})
    entry = {
        "factor": factor["id"],
        "label": factor["label"],
        "input": factor["input"],
        "value": given.get("value", value),
        "unit": given.get("unit"),
        "canonical_value": value,
        "canonical_unit": factor.get("unit"),
        "band": band["id"],
        "band_label": band["label"],
        "points": band["points"],
        "rule": band["rule"],
        "population": variant["population"],
        "modifiable": factor["modifiable"],
        "mechanisms": list(factor["mechanisms"]) if band["points"] > 0 or band.get("flagged") else [],
        "references": list(band["references"]),
    }
    if band.get("effect"):
        entry["effect"] = _effect_summary(band["effect"])
    for key in ("note", "warning"):
        if band.get(key):
            entry[key] = band[key]
    return entry


def _effect_summary(effect):
    out = {k: effect[k] for k in ("measure", "estimate", "comparison", "reference") if k in effect}
    if effect.get("exponent", 1.0) != 1.0:
        out["exponent"] = effect["exponent"]
    if "ci95" in effect:
        out["ci95"] = effect["ci95"]
    return out


def _drug_contributions(kb, factor, patient):
    out = []
    for class_id in patient.drug_classes:
        cls = kb.drug_by_id[class_id]
        entry = {
            "factor": f"medication:{class_id}",
            "label": cls["name"],
            "input": "medications",
            "value": patient.drug_matches[class_id],
            "unit": None,
            "canonical_value": class_id,
            "canonical_unit": None,
            "band": "taking",
            "band_label": f"taking {cls['name'].lower()}",
            "points": cls["points"],
            "rule": f"any of ATC {', '.join(cls['atc_prefixes'])} or the listed generic names",
            "population": cls.get("population", ""),
            "modifiable": True,
            "mechanisms": list(cls["mechanisms"]),
            "evidence": cls["evidence"],
            "references": list(cls["references"]),
        }
        if cls.get("effect"):
            entry["effect"] = _effect_summary(cls["effect"])
        if cls.get("note"):
            entry["note"] = cls["note"]
        out.append(entry)
    return out


def _apply_groups(kb, contributions, missing):
    """Within an exclusive group (e.g. glycaemia) only the highest-scoring factor counts."""
    for group in kb.ruleset.get("exclusive_groups", []):
        members = [c for c in contributions if c["factor"] in group["factors"]]
        if not members:
            continue
        best = max(members, key=lambda c: c["points"])
        for c in members:
            if c is not best and c["points"]:
                c["band_points"] = c["points"]
                c["points"] = 0
                c["note"] = (f"{group['label']}: only the highest of {', '.join(group['factors'])} "
                             f"counts (here {best['factor']}); {group['reason']}")
        for m in missing:
            if m["factor"] in group["factors"]:
                m["max_points"] = max(0, m["max_points"] - best["points"])


def _headroom(kb, missing) -> int:
    """Most points the missing factors could still add (a group shares one slot)."""
    grouped = {fid: g["id"] for g in kb.ruleset.get("exclusive_groups", []) for fid in g["factors"]}
    total, per_group = 0, {}
    for m in missing:
        gid = grouped.get(m["factor"])
        if gid is None:
            total += m["max_points"]
        else:
            per_group[gid] = max(per_group.get(gid, 0), m["max_points"])
    return total + sum(per_group.values())


def _group_overlap(kb, ctx) -> int:
    """Points the naive sum of maxima over-counts because group members share one slot."""
    extra = 0
    for group in kb.ruleset.get("exclusive_groups", []):
        tops = []
        for fid in group["factors"]:
            factor = kb.factor_by_id[fid]
            if applicable(factor, ctx["sex"]):
                tops.append(max_points(factor, select_variant(factor, ctx)))
        if tops:
            extra += sum(tops) - max(tops)
    return extra
