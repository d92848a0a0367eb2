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


def apart(x: float, shown: str) -> str:
    """``x`` as :func:`fmt` writes it, with more significant digits when that text would equal
    ``shown`` (a bound must never read like the value it refuses)."""
    text = fmt(x)
    digits = 4
    while text == shown and digits < 17 and float(shown) != x:
        digits += 1
        text = f"{x:.{digits}g}"
    return text


def range_message(kb, name, value, unit, canonical_value) -> str:
    """The 422 text for an out-of-range value: the value as sent, its unit and the allowed range.
    Converted numbers get the digits they need to differ from the bound they break: 1.11 mmol/L of
    glucose is 19.998 mg/dL, below 20 mg/dL, and reads so (it read "(= 20 mg/dL) is outside the
    accepted range 1.11-55.51 mmol/L": issue 22, finding 15)."""
    lo, hi = unit_table.bounds(kb, name)
    canon = unit_table.canonical_unit(kb, name)
    spec = unit_table.quantity(kb, name)["units"][unit]
    sent = exact(value)
    if unit == canon:
        return f"{sent} {unit} is outside the accepted range {apart(lo, sent)}-{apart(hi, sent)} {canon}"
    off = spec.get("offset", 0.0)
    glo, ghi = (lo - off) / spec["factor"], (hi - off) / spec["factor"]
    bound = lo if canonical_value < lo else hi
    converted = fmt(canonical_value)
    if converted == fmt(bound):
        converted = apart(canonical_value, fmt(bound))
    return (f"{sent} {unit} (= {converted} {canon}) is outside the accepted range "
            f"{apart(glo, sent)}-{apart(ghi, sent)} {unit} ({fmt(lo)}-{fmt(hi)} {canon})")
