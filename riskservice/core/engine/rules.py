"""The rules score: exclusive groups, totals, the highest total, headroom and bands."""
from __future__ import annotations

import numpy as np

from riskservice.core.compiled import DIABETES, FLAGGED, MISSING_TOP, POINTS, PRESENT, TOP
from riskservice.core.engine.arrays import _MINUS_ONE, _ONE, _ZERO, _any, _max, _sum

GROUP_TABLE_LIMIT = 1_000_000   # exclusive groups with up to this many (context, slots) combinations are tabulated


class RuleSteps:
    """Totals, maximum, headroom and bands from the banded factors and the medication list."""

    def _factor_maximum(self, top):
        """The highest total the factors allow, from their tops (factors, n): the sum, less
        all but the highest top of each exclusive group."""
        total = _sum(top, axis=0)
        for members, *_ in self._groups:
            tops = top[members]
            total = total - (_sum(tops, axis=0) - _max(tops, axis=0))
        return total

    @staticmethod
    def _exclusive_group(here, points, top, positions):
        """One exclusive group, (members, n) in: only the first of its highest-scoring present
        members counts, and a missing member can add only what exceeds the best present one.
        Returns the points counted and the top a missing member could add, (members, n), and
        the group's headroom, (n,)."""
        pts = np.where(here, points, _MINUS_ONE)
        any_present = _any(here, axis=0)
        keep = (positions == pts.argmax(axis=0)) & any_present    # the first of the highest counts
        best_points = _max(pts, axis=0) * any_present             # 0 when no member is present
        adjusted = np.maximum(top - best_points, _ZERO) * ~here
        return points * keep, adjusted, _max(adjusted, axis=0)

    def _group_table(self, members, positions, limit=GROUP_TABLE_LIMIT):
        """:meth:`_exclusive_group` for every context and every slot of each member, computed
        once, so that a row's group result is one look-up; None when there are too many
        combinations (the group is then computed row by row, by the same function)."""
        sl = self.slots
        items = self._factor_items[members]
        n_slot = sl.n_slots
        contexts = sl.context.shape[2]
        m = len(members)
        if m == 0 or contexts * n_slot ** m > limit:
            return None
        grid = np.indices((contexts,) + (n_slot,) * m).reshape(1 + m, -1)     # context, then each member's slot
        flat = sl.context[2][items][:, grid[0]] + grid[1:]
        counted, adjusted, headroom = self._exclusive_group(
            sl.bools[PRESENT][flat], sl.ints[POINTS][flat], sl.ints[TOP][flat], positions)
        table = np.concatenate([counted, adjusted, headroom[None]])
        strides = n_slot ** np.arange(m - 1, -1, -1, dtype=np.int64)
        return np.arange(contexts, dtype=np.int64) * n_slot ** m, strides, items, table

    def _rules(self, ev, fints, fbools, key, slot, med_points, med_missing):
        """Totals, maximum, headroom and bands from the factors (item-major, knowledge order);
        returns the points counted per factor."""
        band_points, top, missing_top = fints[POINTS], fints[TOP], fints[MISSING_TOP]
        present = fbools[PRESENT]
        ev.factor_flagged = fbools[FLAGGED].T
        ev.diabetes_range = _any(fbools[DIABETES], axis=0)
        # two different tests in the diabetes range confirm the diagnosis (ADA): no repeat needed
        ev.diabetes_confirmed = _sum(fbools[DIABETES], axis=0, dtype=np.int8) >= 2
        counted = band_points.copy()
        group_headroom = 0
        for members, positions, _, table in self._groups:
            if table is None:
                counted_m, adjusted, headroom = self._exclusive_group(
                    present[members], band_points[members], top[members], positions)
            else:
                base, strides, items, table = table
                found = table.take(base.take(key) + strides @ slot.take(items, axis=0), axis=1)
                m = len(positions)
                counted_m, adjusted, headroom = found[:m], found[m:2 * m], found[2 * m]
            counted[members] = counted_m
            missing_top[members] = adjusted
            group_headroom = group_headroom + headroom
        ev.counted, ev.factor_present, ev.factor_top = counted.T, present.T, top.T
        ev.factor_band_points, ev.missing_top = band_points.T, missing_top.T
        ev.med_points = med_points
        ev.points = points = _sum(counted, axis=0) + med_points
        ev.max_points = self._max_points.take(key)
        ev.headroom = _sum(missing_top.take(self._ungrouped, axis=0), axis=0) + group_headroom + med_missing
        ev.band = self.total_band(points)
        ev.band_if_max = self.total_band(points + ev.headroom)
        return counted

    def total_band(self, points):
        """Index of the ruleset band (the highest whose ``min_points`` is reached) per total."""
        return self._thresholds.searchsorted(points, side="right") - _ONE
