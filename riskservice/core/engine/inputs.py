"""The engine's first steps: canonical units and ranges, BMI from weight and height,
female-only answers, surrogate indices, and the data-entry checks."""
from __future__ import annotations

import numpy as np

from riskservice.core.engine.arrays import _FALSE, _NAN_ROW, _ONE, _any
from riskservice.core.indices import FORMULAS
from riskservice.core.messages import fmt, range_message


class InputSteps:
    """Units, ranges, derived BMI, female-only fields, indices and implausible pairs."""

    def _convert(self, parsed, values):
        """Canonical values (written into ``values``) with range errors; returns where the
        canonical unit was assumed."""
        cx = self.cx
        raw = parsed.raw
        # field-major (the arrays are column-major, so their transposes are contiguous)
        units = parsed.unit.T + self._unit_base                         # (fields, n) into (field x unit)
        np.multiply(raw.T, self._unit_factor.take(units), out=values.T)
        np.add(values.T, self._unit_offset.take(units), out=values.T)
        bad = parsed.unit_bad
        if parsed.unit_bad_any is not False and _any(bad, axis=None):
            values[bad] = np.nan
        outside = np.less(values, cx.lower) | np.greater(values, cx.upper)
        if _any(outside, axis=None):
            for i, j in zip(*np.nonzero(outside), strict=True):
                name = cx.numeric[j]
                unit = cx.unit_names[j][parsed.unit[i, j]]
                parsed.errors.add(i, name, range_message(self.kb, name, raw[i, j], unit, values[i, j])
                                  + self._other_unit(j, raw[i, j], parsed.unit[i, j]))
            values[outside] = np.nan
        return np.greater(raw == raw, parsed.unit_given) & self._multi_unit

    def _derive_bmi(self, values, errors, sent=None):
        cx = self.cx
        jw, jh, jb = self._bmi_cols
        if sent is not None and (jw not in sent or jh not in sent):
            return _FALSE.repeat(len(values))
        w, h = values[:, jw], values[:, jh]
        both = w + h
        both = both == both
        if not _any(both):
            return np.zeros(len(w), dtype=bool)
        bmi = values[:, jb]
        derived = w / (h / 100.0) ** 2
        has_bmi = ~np.isnan(bmi)
        tol = self._bmi_tolerance
        disagree = both & has_bmi & (np.abs(bmi - derived) / derived > tol)
        errors.add_mask(disagree, "bmi", lambda i: (
            f"bmi {fmt(bmi[i])} disagrees with weight/height ({fmt(derived[i])} kg/m2) by more than "
            f"{tol:.0%}; send consistent values or only one of them"))
        fill = both & ~has_bmi
        lo, hi = cx.lower[jb], cx.upper[jb]
        outside = fill & ~((derived >= lo) & (derived <= hi))
        errors.add_mask(outside, "bmi", lambda i: (
            f"BMI derived from weight and height is {fmt(derived[i])} kg/m2, outside the accepted "
            f"range {fmt(lo)}-{fmt(hi)} kg/m2; check the weight and height units"))
        take = fill & ~outside
        values[take, jb] = derived[take]
        return take

    def _female_only(self, codes, errors, sent=None):
        if sent is not None and (self._sex_col not in sent or sent.isdisjoint(self._female_only_set)):
            return
        yes = codes.take(self._sex_and_female_only, axis=1) == _ONE   # male, then each female-only field
        hits = yes[:, 1:] & yes[:, :1]
        if not _any(hits, axis=None):
            return
        for k, (name, _) in enumerate(self._female_only_cols):
            errors.add_mask(hits[:, k], name, lambda i, name=name: f"{name} applies only to female patients")

    def _indices(self, values, block, sent=None):
        """Every index as a column of ``block`` (NaN where an input is missing or the formula is
        undefined), where items can band them; returned by id (views of the block). Formulas
        propagate NaN, so a row missing an input gets NaN; a formula whose input is missing on
        every row is not evaluated at all."""
        n = len(values)
        if sent is None:
            absent = set(np.logical_and.reduce(values != values, axis=0).nonzero()[0].tolist())  # missing in every row
        else:
            absent = self._all_fields.difference(sent)      # not sent (a value sent but refused is NaN: computed)
        columns = dict(zip(self._formula_fields, values.T.take(self._formula_columns, axis=0), strict=True))
        missing = None
        results = []
        for index_id, needs in self._index_inputs:
            if absent.isdisjoint(needs):
                results.append(FORMULAS[index_id](columns))
            else:
                missing = _NAN_ROW.repeat(n) if missing is None else missing
                results.append(missing)
        by_index = block.T                                      # (indices, n), contiguous
        np.concatenate(results, out=by_index.reshape(-1))
        block[np.isinf(block)] = np.nan                       # an undefined value (division by 0) is missing
        return dict(zip(self._index_ids, by_index, strict=True))

    def _implausible(self, values, sent=None):
        """Combinations that cannot both be right (a data-entry check, not a clinical rule):
        (mask, field, message) each, reported as warnings; nothing is changed or refused.
        A pair not sent cannot be implausible."""
        (day, time_message), (ratio, waist_message) = self._implausible_limits
        js, jt, jw, jh = self._implausible_cols
        n = len(values)
        times = waists = None
        if sent is not None:
            times = None if js in sent and jt in sent else _FALSE.repeat(n)
            waists = None if jw in sent and jh in sent else _FALSE.repeat(n)
        return [
            (values[:, js] + values[:, jt] > day if times is None else times, "sedentary_hours_per_day", time_message),
            (values[:, jw] > ratio * values[:, jh] if waists is None else waists, "waist", waist_message),
        ]
