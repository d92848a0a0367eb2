"""Clinical review status of the knowledge a result used.

Every knowledge entry carries ``review_status`` (draft < under_review < approved). A result
reports the lowest status among the entries it actually used, and which entries hold it, so
a reader can see how much of what they read has been signed off; with ``require_approved``
the scorer refuses to serve a result that used anything below ``approved``.
"""
from __future__ import annotations

import weakref

from riskservice.core.errors import UnapprovedKnowledge
from riskservice.core.knowledge import REVIEW_ORDER


def rank(status: str) -> int:
    return REVIEW_ORDER.index(status)


def used_entries(kb, rules: dict, indices: dict, mechanisms: list, established: dict,
                 variants: dict) -> dict:
    """entry id -> review status, for every knowledge entry this result relied on.

    ``variants`` maps each factor id and each index id (for its cut-off) to the variant the
    engine chose for this patient."""
    used = {}
    bands = band_entries(kb)
    for c in rules["contributions"]:
        if c["factor"].startswith("medication:"):
            cls = kb.drug_by_id[c["canonical_value"]]
            used[f"drug_class:{cls['id']}"] = cls["review_status"]
            continue
        fid = c["factor"]
        (factor_key, factor_status), (band_key, band_status) = bands[fid, variants[fid], c["band"]]
        used[factor_key] = factor_status
        used[band_key] = band_status
    if any(c["factor"].startswith("medication:") for c in rules["contributions"]):
        med = kb.factor_by_id.get("medications")
        if med:
            used["factor:medications"] = med["review_status"]
    for spec in kb.indices:
        if spec["id"] in indices and indices[spec["id"]]["cutoff"] is not None:
            v_index = variants[spec["id"]]
            used[f"index_cutoff:{spec['id']}/variant{v_index}"] = spec["cutoffs"][v_index]["review_status"]
    for m in mechanisms:
        used[f"mechanism:{m['id']}"] = kb.mechanisms[m["id"]]["review_status"]
    if mechanisms:
        used["downstream_chain"] = kb.downstream_chain["review_status"]
    for score_id in established:
        used[f"established:{score_id}"] = kb.established["scores"][score_id]["review_status"]
    return used


_BANDS: dict = {}   # id(kb) -> (weak reference to kb, table); Knowledge is not hashable


def band_entries(kb) -> dict:
    """(factor id, variant, band id) -> the factor's and the band's (entry id, status), built
    once per knowledge (a result names a dozen bands; searching them per request cost more)."""
    hit = _BANDS.get(id(kb))
    if hit is not None and hit[0]() is kb:
        return hit[1]
    table = {}
    for f in kb.factors:
        for v, variant in enumerate(f.get("variants", [])):
            for b in variant["bands"]:  # the first band of an id, as a search would find
                table.setdefault((f["id"], v, b["id"]), (
                    (f"factor:{f['id']}", f["review_status"]),
                    (f"factor_band:{f['id']}/variant{v}/{b['id']}", b["review_status"])))
    if len(_BANDS) > 64:
        for key in [k for k, (ref, _) in _BANDS.items() if ref() is None]:
            del _BANDS[key]
    _BANDS[id(kb)] = (weakref.ref(kb), table)
    return table


def summarise(used: dict) -> dict:
    """Lowest status, the entries that hold it, and a count per status."""
    if not used:
        return {"review_status": None, "review_lowest_entries": [], "review_counts": {}}
    statuses = list(used.values())
    lowest = min(statuses, key=rank)
    return {
        "review_status": lowest,
        "review_lowest_entries": sorted(k for k, v in used.items() if v == lowest),
        "review_counts": {s: statuses.count(s) for s in REVIEW_ORDER},
    }


def enforce_approved(used: dict) -> None:
    """Raise UnapprovedKnowledge naming every used entry below ``approved``."""
    below = {k: v for k, v in sorted(used.items()) if v != "approved"}
    if below:
        raise UnapprovedKnowledge(below)


def all_statuses(kb) -> list:
    """Every reviewable entry of the knowledge base with its review fields (for /v1/knowledge)."""
    out = []

    def row(entry_id, entry):
        out.append({"entry": entry_id, "review_status": entry["review_status"],
                    "reviewed_on": entry["reviewed_on"], "reviewer_role": entry["reviewer_role"]})

    for f in kb.factors:
        row(f"factor:{f['id']}", f)
        for i, v in enumerate(f.get("variants", [])):
            for b in v["bands"]:
                row(f"factor_band:{f['id']}/variant{i}/{b['id']}", b)
    for m in kb.mechanisms.values():
        row(f"mechanism:{m['id']}", m)
    row("downstream_chain", kb.downstream_chain)
    for c in kb.drug_classes:
        row(f"drug_class:{c['id']}", c)
    for ix in kb.indices:
        for i, cut in enumerate(ix.get("cutoffs", [])):
            row(f"index_cutoff:{ix['id']}/variant{i}", cut)
    for score_id, score in kb.established["scores"].items():
        row(f"established:{score_id}", score)
    return out
