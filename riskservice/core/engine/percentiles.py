"""Percentiles step: where each measured value stands among US adults of the same sex and age band
(:mod:`riskservice.core.percentiles`). Run on demand, once per evaluation, on columns: the
answers that show percentiles ask for them; a batch that does not pays nothing."""
from __future__ import annotations

import numpy as np

from riskservice.core.fields import SEX


class PercentileSteps:
    def _percentile_setup(self) -> None:
        from riskservice.core.percentiles import Percentiles
        table = self.percentile_table = Percentiles.compile(self.kb.percentiles)
        if table.sexes != SEX:
            raise ValueError(f"percentiles.json sexes {table.sexes} are not the field table's {SEX}")
        ix = self.cx.numeric_index
        self._percentile_fields = np.array([ix.get(m, -1) for m in table.measures], dtype=np.intp)
        self._percentile_indices = [(k, m) for k, m in enumerate(table.measures) if m not in ix]
        self._age_col = ix["age"]

    def percentiles(self, ev):
        """(percentile, beyond, age band) for every row of ``ev``, measures in the table's order
        (:meth:`riskservice.core.percentiles.Percentiles.evaluate`); kept on ``ev``."""
        if ev.percentiles is None:
            values = ev.values.take(self._percentile_fields, axis=1)
            for k, m in self._percentile_indices:
                values[:, k] = ev.indices[m]
            ev.percentiles = self.percentile_table.evaluate(values, ev.codes[:, self._sex_col],
                                                            ev.values[:, self._age_col])
        return ev.percentiles
