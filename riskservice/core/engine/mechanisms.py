"""Mechanism weights and order from the factors, drug classes and flagged indices behind them."""
from __future__ import annotations

import numpy as np

from riskservice.core.compiled import ATTACHED
from riskservice.core.engine.arrays import _EIGHT, _LOW_BITS, _ONE, _PACK


class MechanismSteps:
    """Which mechanisms a row's factors, medicines and flagged indices act through, and their rank."""

    def _link_matrix(self):
        """(mechanisms, drivers) 0/1: the factors (knowledge order), drug classes and index
        cut-offs (flagged indices) that act through each mechanism."""
        kb = self.kb
        sources = [kb.factor_by_id[fid]["mechanisms"] for fid in self.factor_order]
        sources += [c["mechanisms"] for c in kb.drug_classes]
        sources += [index.get("mechanisms_when_flagged") or [] for index, _, _ in self.cx.items["cutoffs"][0].specs]
        return np.array([[mid in mechs for mechs in sources] for mid in self.mechanism_ids],
                        dtype=np.int64).reshape(len(self.mechanism_ids), len(sources))

    def attached(self, ev):
        """(n, factors): the factor's mechanisms apply (points in its band, or a flagged band)."""
        return ev.factor_present & ((ev.factor_band_points > 0) | ev.factor_flagged)

    def _mechanisms(self, ev, counted, fbools, med_drivers, flags):
        """Mechanism weights and order.

        A mechanism's weight is the sum of the points of the factors and medicines that act
        through it, each counted in full for every mechanism its sources link it to (nothing is
        split as if the split were evidence); flagged indices add supporting evidence without
        weight. Ranked by weight, then by the number of drivers and indices, then by id. Each
        driver is packed as points * 256 + 1, so one integer product (numpy's own loop, not a
        threaded BLAS) gives weight and count together; one row and a million rank alike.
        """
        factors = fbools[ATTACHED] * (counted * _PACK + _ONE)
        drivers = np.concatenate([factors, med_drivers, flags])  # (drivers, n)
        packed = self._links(drivers).T                           # (n, mechanisms)
        ev.mech_weight, ev.mech_count = packed >> _EIGHT, packed & _LOW_BITS
        ev.mech_order = (-packed).argsort(axis=1, kind="stable")
