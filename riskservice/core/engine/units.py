"""No silent unit guess: a lab value sent without a unit is read in a unit only where that reading alone is plausible.

"Plausible" is ``plausible.range`` of the quantity in ``knowledge/units.json``: the lowest and
highest value measured in NHANES 2015-2018 fasting adults (hs-CRP and ALT, which the shipped
table lacks: the accepted bounds), written there by ``tools/plausible_ranges.py``. Per value:

* plausible in exactly one unit: read in that unit, with a warning that names the inference;
* plausible in two units (glucose 22: 22 mg/dL or 22 mmol/L): an error naming both readings;
* plausible in none: the same test against the accepted bounds (a glucose of 600 can only be
  mg/dL), else the range error, which suggests the other unit when that reading is possible.

A value sent with its unit is read in that unit; when it is implausible there but plausible in
another unit (triglycerides "63 mmol/L"), a warning says so. Body measures (weight, height,
waist, hip, activity) have no plausible range: their canonical unit is the documented default.
"""
from __future__ import annotations

import numpy as np

from riskservice.core.messages import exact, fmt

PLAUSIBLE_SOURCE = "the range measured in NHANES 2015-2018 fasting adults"
BOUNDS_SOURCE = "the accepted range"


class UnitSteps:
    """Units inferred per value for the labs, their warnings, and the other unit an error suggests."""

    def _unit_plan(self):
        """Per lab field: (column, [(unit index, factor, offset)] one per distinct reading, plausible
        low and high, bounds low and high, what "plausible" rests on), canonical reading first."""
        cx, quantities = self.cx, self.kb.units["quantities"]
        plan = []
        for j, name in enumerate(cx.numeric):
            spec = quantities[name].get("plausible")
            if spec is None:
                continue
            readings, seen = [], set()
            order = [int(cx.canonical_unit[j])] + [u for u in range(len(cx.unit_names[j])) if u != cx.canonical_unit[j]]
            for u in order:
                pair = (float(cx.factor[j, u]), float(cx.offset[j, u]))
                if pair not in seen:
                    seen.add(pair)
                    readings.append((u, *pair))
            lo, hi = spec["range"]
            measured = list(spec["range"]) != list(quantities[name]["bounds"])
            plan.append((j, readings, float(lo), float(hi), float(cx.lower[j]), float(cx.upper[j]),
                         PLAUSIBLE_SOURCE if measured else BOUNDS_SOURCE))
        return plan

    def _infer_units(self, parsed) -> list:
        """Set the unit of each unitless lab value that only one reading makes plausible; an error
        where two do. Returns (rows, field, unit name, rests on) per inference, for the warnings."""
        out = []
        sent = parsed.numbers_sent
        for j, readings, plo, phi, blo, bhi, basis in self._units_plan:
            if len(readings) < 2 or (sent is not None and j not in sent):
                continue
            x = parsed.raw[:, j]
            todo = (x == x) & ~parsed.unit_given[:, j] & ~parsed.unit_bad[:, j]
            if not todo.any():
                continue
            canon = [x * f + o for _, f, o in readings]
            plausible = np.array([todo & (v >= plo) & (v <= phi) for v in canon])
            possible = np.array([todo & (v >= blo) & (v <= bhi) for v in canon])
            count = plausible.sum(axis=0)
            fallback = todo & (count == 0)
            pcount = possible.sum(axis=0)
            chosen = np.where(count == 1, plausible.argmax(axis=0), np.where(fallback & (pcount == 1),
                                                                             possible.argmax(axis=0), -1))
            ambiguous = todo & ((count >= 2) | (fallback & (pcount >= 2)))
            if ambiguous.any():
                name = self.cx.numeric[j]
                for i in np.flatnonzero(ambiguous):
                    which = plausible[:, i] if count[i] >= 2 else possible[:, i]
                    parsed.errors.add(int(i), name, self._ambiguous_message(j, readings, x[i], which,
                                                                             basis if count[i] >= 2 else BOUNDS_SOURCE))
            for k, (u, _, _) in enumerate(readings):
                rows = chosen == k
                if not rows.any():
                    continue
                if k:
                    if not parsed.unit.flags.writeable:
                        parsed.unit = parsed.unit.copy()
                    parsed.unit[rows, j] = u
                for mask, rests_on in ((rows & (count == 1), basis), (rows & (count == 0), BOUNDS_SOURCE)):
                    if mask.any():
                        out.append((mask, j, u, rests_on))
        return out

    def _ambiguous_message(self, j, readings, value, which, basis) -> str:
        cx = self.cx
        name, canonical = cx.numeric[j], cx.unit_names[j][cx.canonical_unit[j]]
        said = []
        for (u, f, o), ok in zip(readings, which, strict=True):
            if ok:
                unit = cx.unit_names[j][u]
                same = "" if unit == canonical else f" (= {fmt(value * f + o)} {canonical})"
                said.append(f"{exact(value)} {unit}{same}")
        return (f"no unit given, and {exact(value)} is plausible as {' and as '.join(said)} ({basis}): send "
                f"{name}_unit, or write the unit in the value ('{exact(value)} {cx.unit_names[j][readings[1][0]]}') "
                "or in the column header")

    def _implausible_units(self, parsed, values) -> list:
        """(rows, field, message) where a value sent with its unit is outside the plausible range in
        that unit but inside it in another: a warning (nothing is changed)."""
        out = []
        cx = self.cx
        for j, readings, plo, phi, _, _, basis in self._units_plan:
            if basis != PLAUSIBLE_SOURCE or len(readings) < 2:
                continue
            v = values[:, j]
            odd = parsed.unit_given[:, j] & (v == v) & ((v < plo) | (v > phi))
            if not odd.any():
                continue
            x = parsed.raw[:, j]
            other = np.zeros(len(x), dtype=bool)
            names = []
            for u, f, o in readings:
                alt = x * f + o
                hit = odd & (parsed.unit[:, j] != u) & (alt >= plo) & (alt <= phi)
                if hit.any():
                    other |= hit
                    names.append(cx.unit_names[j][u])
            if other.any():
                canonical = cx.unit_names[j][cx.canonical_unit[j]]
                out.append((other, cx.numeric[j],
                            f"the value is outside {basis} ({fmt(plo)}-{fmt(phi)} {canonical}) in the unit sent, "
                            f"but within it if read as {' or '.join(dict.fromkeys(names))}: check the unit"))
        return out

    def _other_unit(self, j, value, unit) -> str:
        """For a range error: the other reading of ``value`` that is within the accepted range, as
        "; did you mean 5.4 mmol/L (= 97.29 mg/dL)?", or ""."""
        cx = self.cx
        canonical = cx.unit_names[j][cx.canonical_unit[j]]
        for u in range(len(cx.unit_names[j])):
            f, o = cx.factor[j, u], cx.offset[j, u]
            if f == cx.factor[j, unit] and o == cx.offset[j, unit]:
                continue
            v = value * f + o
            if cx.lower[j] <= v <= cx.upper[j]:
                name = cx.unit_names[j][u]
                same = "" if name == canonical else f" (= {fmt(v)} {canonical})"
                return f"; did you mean {exact(value)} {name}{same}?"
        return ""
