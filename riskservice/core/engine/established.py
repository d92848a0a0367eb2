"""Established questionnaires (FINDRISC, ADA): points, completeness and categories; index flags."""
from __future__ import annotations

import numpy as np

from riskservice.core.compiled import MISSING, MISSING_TOP, POINTS
from riskservice.core.engine.arrays import _ONE, SMALL_BATCH, _sum, row_sums


class EstablishedSteps:
    """Questionnaire totals and categories, and the index cut-off flags."""

    def _score_matrices(self):
        """Score-to-item membership (scores, items) and the category minimums of each score,
        twice (for the points and for the maximum), padded so that nothing reaches the padding."""
        scores = self.kb.established["scores"]
        num, cat = self.cx.items["established"]
        owners = [owner[0] for owner, _, _ in num.specs + cat.specs]
        member = np.array([[owner == sid for owner in owners] for sid in scores], dtype=np.int64).reshape(
            len(scores), len(owners))
        width = max((len(s["categories"]) for s in scores.values()), default=1)
        mins = np.full((len(scores), width), np.iinfo(np.int64).max, dtype=np.int64)
        for k, score in enumerate(scores.values()):
            mins[k, :len(score["categories"])] = [c["min_points"] for c in score["categories"]]
        num_cols, cat_cols = self.slots.blocks["established"]
        columns = slice(num_cols.start, cat_cols.stop)
        return list(scores), row_sums(member), np.concatenate([mins, mins])[:, None, :], columns

    def _established(self, ev, flat):
        """Points, maximum, completeness and categories of every questionnaire: the item
        points and the tops of missing items (gathered for the questionnaire items' slots)
        summed per score."""
        ids, per_score, mins, columns = self._scores
        s = len(ids)
        slots = flat[columns]
        sl = self.slots
        totals = np.add.accumulate(per_score(sl.ints[POINTS:MISSING_TOP + 1].take(slots, axis=1), axis=1),
                                   axis=0)                        # (2, scores, n)
        low_high = totals.reshape(2 * s, -1)                      # points, then points if missing were maximal
        complete = per_score(sl.bools[MISSING].take(slots)) == 0
        if low_high.shape[1] <= SMALL_BATCH:
            category = _sum(low_high[:, :, None] >= mins, axis=2) - _ONE
        else:   # the same count, one contiguous comparison per category (a short last axis sums slowly)
            category = np.full(low_high.shape, -1, dtype=np.int64)
            for minimum in self._category_mins:
                category += low_high >= minimum
        for k, sid in enumerate(ids):
            ev.scores[sid] = {"points": low_high[k], "points_max": low_high[s + k], "complete": complete[k],
                              "category": category[k], "category_max": category[s + k]}

    def _flags(self, ev, results, flags):
        pairs = zip(flags, results.variant.T[self._cutoff_items], strict=True)
        ev.flagged.update(zip(self._cutoff_ids, pairs, strict=True))
