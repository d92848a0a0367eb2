"""The patient-independent parts of the single answer, built once per engine (knowledge + model).

Why: most of a full answer is rules, texts and citations from the knowledge that are the same
for every patient; building them key by key for each request cost about as much as the
engine's arithmetic. Here each part is built once as a template; the renderer copies it (one
C-level copy) and fills in the patient's numbers. Templates never leave this module as they
are: every container the renderer returns is a fresh copy, as before, so a caller that edits
its answer cannot change the next one.
"""
from __future__ import annotations

import weakref

from riskservice.core import review
from riskservice.core.fields import FIELDS
from riskservice.core.indices import describe

_PLANS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def plan_for(engine) -> Plan:
    """The plan of this engine, built on first use and kept as long as the engine lives."""
    plan = _PLANS.get(engine)
    if plan is None:
        plan = _PLANS[engine] = Plan(engine)
    return plan


class Plan:
    """Look-up tables and templates of the single answer for one engine."""

    def __init__(self, engine):
        kb, cx = engine.kb, engine.cx
        # Factors in knowledge order: (id, factor, column, table, slot); id None = medications.
        self.factors = []
        self.contribution = {}
        for factor in kb.factors:
            if factor["kind"] == "medications":
                self.factors.append((None, factor, None, None, None))
                continue
            fid = factor["id"]
            pair_pos, k = engine.factor_slot[fid]
            self.factors.append((fid, factor, engine.factor_pos[fid], pair_pos, k))
            for v, variant in enumerate(factor["variants"]):
                for b, band in enumerate(variant["bands"]):
                    self.contribution[fid, v, b] = contribution_template(factor, variant, band)
        self.medications_max = int(engine.class_points.sum())
        # Which engine slot holds the variant chosen for each factor and each index's cut-off.
        self.variant_slots = [(owner["id"], group, pair_pos, k)
                              for group in ("factors", "cutoffs")
                              for pair_pos, table in enumerate(cx.items[group])
                              for k, (owner, _, _) in enumerate(table.specs)]
        # Established scores: per score, its items' slots in the engine's order.
        self.established = {sid: [] for sid in kb.established["scores"]}
        for pair_pos, table in enumerate(cx.items["established"]):
            for k, (owner, item, variants) in enumerate(table.specs):
                if owner[0] in self.established:
                    spec = kb.established["scores"][owner[0]]
                    tops = [max(b["points"] for b in v["bands"]) for v in variants]
                    self.established[owner[0]].append(
                        (pair_pos, k, item, variants, spec["items"].index(item), tops))
        self.index_by_id = {ix["id"]: ix for ix in kb.indices}
        self._index_entries: dict = {}
        chain = kb.downstream_chain.get("steps", [])
        self.mechanism = {mid: {
            "rank": 0, "id": mid, "name": mech["name"], "weight": 0, "share_of_points": 0.0,
            "factors": None, "supporting_indices": None, "chain": list(mech["chain"]) + list(chain),
            "explanation": mech["explanation"], "references": list(mech["references"]),
        } for mid, mech in kb.mechanisms.items()}
        # Fields in FIELDS order: (name, numeric column or None, is the medication list).
        self.fields = [(f.name, cx.numeric_index.get(f.name), f.kind == "list") for f in FIELDS]
        self.reference = {}
        for rid, ref in kb.references.items():
            if "number" not in ref and "in_explanation" not in ref:
                self.reference[rid] = {"number": 0, **ref, "in_explanation": False}
        review.band_entries(kb)  # the review table too, built now rather than on the first answer

    def index_entry(self, index: dict, cut_index: int, flagged) -> dict:
        """A fresh copy of the answer's entry for an index, without its value."""
        key = (index["id"], cut_index, flagged)
        template = self._index_entries.get(key)
        if template is None:
            cut = None if cut_index < 0 else index["cutoffs"][cut_index]
            template = self._index_entries[key] = describe(index, 0.0, cut, flagged=flagged)
        entry = template.copy()
        entry["references"] = template["references"].copy()
        if template["cutoff"] is not None:
            entry["cutoff"] = template["cutoff"].copy()
        return entry


def contribution_template(factor: dict, variant: dict, band: dict) -> dict:
    """A contribution for this band, its patient values (value, unit, canonical value, points)
    still to be filled in; the keys are in the answer's order."""
    entry = {
        "factor": factor["id"],
        "label": factor["label"],
        "input": factor["input"],
        "value": None,
        "unit": None,
        "canonical_value": None,
        "canonical_unit": factor.get("unit"),
        "band": band["id"],
        "band_label": band["label"],
        "points": None,
        "band_points_raw": band["points"],
        "rule": band["rule"],
        "population": variant["population"],
        "modifiable": factor["modifiable"],
        "mechanisms": list(factor["mechanisms"]) if band["points"] > 0 or band.get("flagged") else [],
        "references": list(band["references"]),
    }
    if band.get("diabetes_range"):
        entry["diabetes_range"] = True
    if band.get("effect"):
        entry["effect"] = effect_summary(band["effect"])
    for key in ("note", "warning"):
        if band.get(key):
            entry[key] = band[key]
    return entry


def effect_summary(effect):
    out = {k: effect[k] for k in ("measure", "estimate", "comparison", "reference") if k in effect}
    if effect.get("exponent", 1.0) != 1.0:
        out["exponent"] = effect["exponent"]
    if "ci95" in effect:
        out["ci95"] = effect["ci95"]
    return out
