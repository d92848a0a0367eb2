"""Aggregate contributing factors into ranked cellular mechanisms.

Each factor's points are shared equally among the mechanisms it acts through, so the
mechanism weights add up to the total points; flagged surrogate indices are attached as
supporting evidence without adding weight.
"""
from __future__ import annotations



def weight_key(weight: float) -> int:
    """Ranking key shared with the batch path (np.rint(w * 1e6)): round-half-even on the same
    double, so summation-order noise cannot reorder tied mechanisms."""
    return round(weight * 1e6)


def rank_mechanisms(contributions: list, indices: dict, kb) -> list:
    weights, drivers, support = {}, {}, {}
    for c in contributions:
        mechs = c["mechanisms"]
        if not mechs:
            continue
        share = c["points"] / len(mechs)
        for mid in mechs:
            weights[mid] = weights.get(mid, 0.0) + share
            drivers.setdefault(mid, []).append(
                {"factor": c["factor"], "label": c["label"], "points": c["points"],
                 "points_share": round(share, 4)})
    spec_by_id = {ix["id"]: ix for ix in kb.indices}
    for ix_id, result in indices.items():
        if result.get("flagged"):
            for mid in spec_by_id[ix_id].get("mechanisms_when_flagged", []):
                weights.setdefault(mid, 0.0)
                support.setdefault(mid, []).append(
                    {"index": ix_id, "name": result["name"], "value": result["value"]})
    total = sum(c["points"] for c in contributions) or 0
    downstream = kb.downstream_chain["steps"]
    ranked = sorted(weights, key=lambda m: (-weight_key(weights[m]), -len(drivers.get(m, [])) - len(support.get(m, [])), m))
    out = []
    for rank, mid in enumerate(ranked, start=1):
        mech = kb.mechanisms[mid]
        out.append({
            "rank": rank,
            "id": mid,
            "name": mech["name"],
            "weight": round(weights[mid], 4),
            "share_of_points": round(weights[mid] / total, 4) if total else 0.0,
            "factors": drivers.get(mid, []),
            "supporting_indices": support.get(mid, []),
            "chain": list(mech["chain"]) + list(downstream),
            "explanation": mech["explanation"],
            "references": list(mech["references"]),
        })
    return out
