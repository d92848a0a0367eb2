"""One row of an evaluation as plain Python values, with the look-ups the single answer needs."""
from __future__ import annotations

from riskservice.core.fields import FIELD_BY_NAME
from riskservice.core.render.plan import plan_for


def _as_sent(x: float):
    """A number as the caller most likely wrote it: integers without a trailing .0."""
    return int(x) if float(x).is_integer() and abs(x) < 1e15 else float(x)


class _once:
    """A value computed on first read and then kept on the instance (functools.cached_property
    without its lock, which cost more than the values read here)."""

    def __init__(self, fn):
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


class RowView:
    """Row ``i`` of an evaluation as plain Python values, with the look-ups the single answer needs."""

    def __init__(self, engine, ev, i: int):
        self.engine, self.ev, self.i = engine, ev, i
        self.kb, self.cx = engine.kb, engine.cx
        self.codes = ev.codes[i].tolist()
        self.values = ev.values[i].tolist()
        self.sex = self.choice("sex")
        self.ethnicity = self.choice("ethnicity")

    @_once
    def plan(self):
        """The engine's render plan (render/plan.py), looked up once per row."""
        return plan_for(self.engine)

    # Read on first use: the summary needs none of these.
    @_once
    def raw(self):
        return self.ev.parsed.raw[self.i].tolist()

    @_once
    def unit(self):
        return self.ev.parsed.unit[self.i].tolist()

    @_once
    def indices(self):
        return {k: float(v[self.i]) for k, v in self.ev.indices.items()}

    @_once
    def items(self):
        i = self.i
        return {group: [(t.variant[i].tolist(), t.band[i].tolist(), t.present[i].tolist())
                        for t in getattr(self.ev, group)]
                for group in ("factors", "established", "cutoffs")}

    def choice(self, name):
        code = self.codes[self.cx.coded_index[name]]
        if code < 0:
            return None
        f = FIELD_BY_NAME.get(name)
        if f is not None and f.kind == "enum":
            return f.choices[code]
        return bool(code)

    def number(self, name):
        x = self.values[self.cx.numeric_index[name]]
        return None if x != x else x

    def value(self, name):
        """Canonical value of a field or index (None when missing)."""
        if name in self.cx.numeric_index:
            return self.number(name)
        if name in self.indices:
            x = self.indices[name]
            return None if x != x else x
        return self.choice(name)

    def given(self, name):
        """{"value", "unit"} as sent (numbers), or None."""
        j = self.cx.numeric_index.get(name)
        if j is None:
            return None
        if name == "bmi" and self.ev.bmi_derived[self.i]:
            return {"value": round(self.values[j], 2), "unit": "kg/m2", "derived_from": ["weight", "height"]}
        raw = self.raw[j]
        if raw != raw:
            return None
        return {"value": _as_sent(raw), "unit": self.cx.unit_names[j][self.unit[j]]}

    def variants(self) -> dict:
        """factor id / index id -> the variant the engine chose for this row."""
        items = self.items
        return {owner: items[group][pair_pos][0][k]
                for owner, group, pair_pos, k in self.plan.variant_slots}

    def medications(self):
        k = int(self.ev.parsed.med_index[self.i])
        return None if k < 0 else self.ev.parsed.med_lists[k]
