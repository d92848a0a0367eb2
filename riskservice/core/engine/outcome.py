"""What is already known about the outcomes: the measured HOMA-IR (valid or not, its status
against the outcome's borderline zone, whether the risk-factor estimate agrees) and when each
probability is withheld (an outcome measured or established by the inputs: no probability of it)."""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.evaluation import AGREEMENT, HOMA_STATUS, MEASURED_INVALID


class OutcomeSteps:
    """Measured HOMA-IR validity and status; the withheld probabilities."""

    def _outcome_tables(self):
        """Numbers of ruleset.json outcome, measured and dysglycaemia as arrays, built once."""
        kb, cx = self.kb, self.cx
        rs = kb.ruleset
        border = rs["outcome"]["borderline"]
        self._homa_edges = np.array([border["low"], border["high"]])
        bands = [t["id"] for t in rs["bands"]["thresholds"]]
        # agreement by (status, band): agree, disagree, or -1 (borderline: neither)
        table = np.full((len(HOMA_STATUS), len(bands)), -1, dtype=np.int8)
        for status, spec in rs["measured"]["agreement"].items():
            s = HOMA_STATUS.index(status)
            for b, band in enumerate(bands):
                table[s, b] = AGREEMENT.index("agree" if band in spec["agrees_with_bands"] else "disagree")
        self._agreement_table = table
        self._glucose_lowering_classes = frozenset(rs["measured"]["glucose_lowering_classes"])
        # dysglycaemia established: per input, its threshold in each accepted unit (as the guideline
        # states it there; NaN: compare the canonical value with the canonical threshold)
        rules = []
        for rule in rs["dysglycaemia"]["established_when"]:
            j = cx.numeric_index[rule["input"]]
            names = cx.unit_names[j]
            per_unit = np.array([rule["at_least"].get(u, np.nan) for u in names])
            rules.append((j, per_unit, rule["at_least"][names[cx.canonical_unit[j]]]))
        self._established_rules = rules
        self._coded_cols = {name: cx.coded_index[name] for name in ("fasting", "pregnant", "known_diabetes")}

    def _outcomes(self, ev, glucose_lowering):
        """The measured HOMA-IR and the withheld probabilities of every row."""
        codes = ev.codes
        col = self._coded_cols
        homa = ev.indices["homa_ir"]
        ev.homa_given = given = ~np.isnan(homa)
        ev.glucose_lowering = glucose_lowering
        reasons = (codes[:, col["fasting"]] == 0, codes[:, col["pregnant"]] == 1,
                   codes[:, col["known_diabetes"]] == 1, ev.diabetes_range, glucose_lowering)
        invalid = np.zeros(ev.n, dtype=np.uint8)
        for bit, (_name, mask) in enumerate(zip(MEASURED_INVALID, reasons, strict=True)):
            invalid |= mask.astype(np.uint8) << bit
        ev.homa_invalid = np.where(given, invalid, 0).astype(np.uint8)
        ev.homa_valid = valid = given & (invalid == 0)
        status = self._homa_edges.searchsorted(homa, side="left")      # < low: 0; low..high: 1; > high: 2
        status = np.where(homa == self._homa_edges[1], 1, status)       # high itself is borderline
        ev.homa_status = np.where(given, status, -1)
        agreement = self._agreement_table[np.clip(ev.homa_status, 0, None), ev.band]
        ev.agreement = np.where(valid, agreement, -1)
        # the insulin-resistance probability: never for a measured outcome
        if ev.probability is None:
            ev.probability = np.full(ev.n, np.nan)
            ev.probability_withheld = np.where(valid, 0, 1).astype(np.int8)      # "measured", else "absent"
        else:
            ev.probability_withheld = np.where(valid, 0, -1).astype(np.int8)     # "measured"
            ev.probability = np.where(valid, np.nan, ev.probability)
        # the dysglycaemia probability: never when the inputs establish dysglycaemia
        established = np.zeros(ev.n, dtype=bool)
        raw, units, values = ev.parsed.raw, ev.parsed.unit, ev.values
        for j, per_unit, canonical in self._established_rules:
            threshold = per_unit.take(units[:, j])
            established |= np.where(np.isnan(threshold), values[:, j] >= canonical,
                                    ~np.isnan(values[:, j]) & (raw[:, j] >= threshold))
        withheld = np.select([codes[:, col["known_diabetes"]] == 1, established, codes[:, col["pregnant"]] == 1],
                             [1, 0, 2], -1).astype(np.int8)
        if ev.dysglycaemia_probability is None:
            ev.dysglycaemia_probability = np.full(ev.n, np.nan)
            withheld = np.where(withheld < 0, 3, withheld).astype(np.int8)      # "absent"
        ev.dysglycaemia_withheld = withheld
        ev.dysglycaemia_probability = np.where(withheld >= 0, np.nan, ev.dysglycaemia_probability)
