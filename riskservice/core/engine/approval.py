"""Which rows would use a knowledge entry not yet approved by clinical review."""
from __future__ import annotations

import numpy as np


class ApprovalSteps:
    """Rows whose result would use a knowledge entry below ``approved``."""

    def unapproved_rows(self, ev) -> np.ndarray:
        """Rows whose result would use a knowledge entry below ``approved`` (the same entries
        :func:`riskservice.core.review.used_entries` lists for one answer)."""
        kb = self.kb
        below = np.zeros(ev.n, dtype=bool)
        if any(s["review_status"] != "approved" for s in kb.established["scores"].values()):
            return np.ones(ev.n, dtype=bool)
        for group in ("factors", "cutoffs"):
            for pair_pos, table in enumerate(self.cx.items[group]):
                items = getattr(ev, group)[pair_pos]
                for k, (owner, _, variants) in enumerate(table.specs):
                    if group == "factors" and owner["review_status"] != "approved":
                        below |= items.present[:, k]
                    for v, variant in enumerate(variants):
                        if group == "cutoffs":
                            if variant["cutoff"]["review_status"] != "approved":
                                below |= items.present[:, k] & (items.variant[:, k] == v)
                            continue
                        for b, band in enumerate(variant["bands"]):
                            if band["review_status"] != "approved":
                                below |= (items.variant[:, k] == v) & (items.band[:, k] == b)
        for c, cls in enumerate(kb.drug_classes):
            if cls["review_status"] != "approved":
                below |= ev.med_member[:, c]
        med = kb.factor_by_id.get("medications")
        if med is not None and med["review_status"] != "approved":
            below |= ev.med_member.any(axis=1)
        present = ev.mech_count > 0
        for j, mid in enumerate(self.mechanism_ids):
            if kb.mechanisms[mid]["review_status"] != "approved":
                below |= present[:, j]
        if kb.downstream_chain["review_status"] != "approved":
            below |= present.any(axis=1)
        return below
