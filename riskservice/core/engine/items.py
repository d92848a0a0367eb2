"""Banding: every item's variant, band and record for every row, in one gather."""
from __future__ import annotations

import numpy as np

from riskservice.core.compiled import BAND, DIABETES, FLAGGED, POINTS, PRESENT, TOP
from riskservice.core.engine.arrays import SMALL_BATCH, _sum
from riskservice.core.engine.evaluation import ItemResults


class ItemSteps:
    """Variant, band and record of every banded item (factors, questionnaire items, index cut-offs)."""

    def _items(self, parsed, source, codes):
        """Variant, band, presence, points and flags of every item for every row: the row's
        context picks each item's variant, the value's slot among the variant's thresholds (in
        the unit the value was sent in, edges as the guideline states them there) picks the
        band, and every result is one look-up. Arrays are item-major, (items, n); the
        results hold their transposes, (n, items)."""
        sl = self.slots
        key = sl.sex_key.take(codes[:, self._sex_col]) + sl.ethnicity_key.take(codes[:, self._eth_col])
        context = sl.context.take(key, axis=2)                    # (3, items, n)
        x = source.T.take(sl.value_columns, axis=0)
        slot = self._slots(x, context[1], parsed.unit.T)
        if self._fasting_items.size:     # triglycerides score only when the labs were drawn fasting
            not_fasting = codes[:, self._fasting_col] != 1
            if not_fasting.any():
                slot[np.ix_(self._fasting_items, not_fasting)] = 0      # slot 0: missing
        flat = np.add(context[2], slot, dtype=np.intp)     # indices as take wants them (no hidden copy)
        # one gather of each slot's whole record (ints, then bools padded to 8 bytes), viewed
        # field-major: (fields, items, n)
        ints = self._int_records.take(flat, axis=0).transpose(2, 0, 1)
        bools = self._bool_records.take(flat, axis=0).transpose(2, 0, 1)
        results = ItemResults(context[0].T, ints[BAND].T, bools[PRESENT].T, ints[POINTS].T, ints[TOP].T,
                              bools[FLAGGED].T, bools[DIABETES].T)
        return results, ints, bools, key, slot, flat

    def _banding_plan(self):
        """Per item, what a large block compares its values with: the thresholds that can be
        finite (column 0, -inf where the item applies, then the variant's edges; the columns
        after them are +inf in every row, so no value exceeds them), as a column (thresholds, 1)
        when only one threshold row is reachable, else as (thresholds, rows) to gather from."""
        sl = self.slots
        thresholds = sl.thresholds
        plan = []
        for reachable in sl.threshold_rows:
            width = 1 + max((int(np.isfinite(thresholds[r, 1:]).sum()) for r in reachable), default=0)
            if len(reachable) == 1:
                plan.append((reachable[0], thresholds[reachable[0], :width, None].copy()))
            else:
                plan.append((None, np.ascontiguousarray(thresholds[:, :width].T)))
        return plan

    def _slots(self, x, row_base, units):
        """(items, n): how many of its thresholds each value exceeds (0 when missing). Small
        inputs compare all thresholds at once; large ones compare each item's values with the
        few thresholds that can be finite, row by row of thresholds, and count (the same count,
        without an items x n x thresholds temporary; tests hold the two equal). NaN exceeds
        nothing, and a row where the item does not apply has only +inf thresholds."""
        sl = self.slots
        if x.shape[1] <= SMALL_BATCH:
            rows = row_base + units.take(sl.unit_columns, axis=0)
            # thresholds ascend and end with +inf, so "exceeded" is True then False: its first
            # False (argmin) is the count (0 for NaN)
            return np.greater(x[:, :, None], sl.thresholds.take(rows, axis=0)).argmin(axis=2)
        count = self._slot_count        # counts in bytes while they fit: 32 additions per instruction
        slot = np.empty(x.shape, dtype=count)
        for j, (only, edges) in enumerate(self._slot_plan):
            rows = row_base[j] + units[sl.unit_columns[j]]
            if only is None:
                exceeded = np.greater(x[j], edges.take(rows, axis=1))          # (thresholds, n)
            else:
                exceeded = np.greater(x[j], edges)
                exceeded &= rows == only          # elsewhere the item does not apply (+inf)
            _sum(exceeded.view(count) if count is np.uint8 else exceeded, axis=0, dtype=count, out=slot[j])
        return slot
