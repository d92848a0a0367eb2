"""Numbers in messages: a value as the caller sent it, and other numbers for reading."""
from __future__ import annotations

from riskservice.core import units as unit_table


def exact(x) -> str:
    """The value exactly as sent (shortest round-trip form), so 90.0001 is never shown as 90."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def fmt(x: float) -> str:
    """Short human number for derived values: 4 significant digits, no trailing zeros."""
    if float(x).is_integer() and abs(x) < 1e9:
        return str(int(x))
    if abs(x) >= 1000:
        return f"{x:.0f}"
    return f"{x:.4g}"


def range_message(kb, name, value, unit, canonical_value) -> str:
    """The 422 text for an out-of-range value: the value as sent, its unit and the allowed range."""
    lo, hi = unit_table.bounds(kb, name)
    canon = unit_table.canonical_unit(kb, name)
    spec = unit_table.quantity(kb, name)["units"][unit]
    if unit == canon:
        return f"{exact(value)} {unit} is outside the accepted range {fmt(lo)}-{fmt(hi)} {canon}"
    off = spec.get("offset", 0.0)
    glo, ghi = (lo - off) / spec["factor"], (hi - off) / spec["factor"]
    return (f"{exact(value)} {unit} (= {fmt(canonical_value)} {canon}) is outside the accepted range "
            f"{fmt(glo)}-{fmt(ghi)} {unit} ({fmt(lo)}-{fmt(hi)} {canon})")
