"""What an input adapter produces: typed arrays of ``n`` rows, and the problems per row and field."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from riskservice.core.fields import MISSING_SPELLINGS

MAX_MEDICATIONS = 50
MAX_MEDICATION_LENGTH = 100
REQUIRED_MESSAGE = "Missing data for required field."


class RowErrors:
    """Problems per row and field, kept only for the rows that have them (row -> field -> messages)."""

    def __init__(self, n: int):
        self.n = n
        self.by_row: dict = {}

    def add(self, i: int, name: str, message: str) -> None:
        self.by_row.setdefault(int(i), {}).setdefault(name, []).append(message)

    def add_mask(self, mask, name: str, message_for_row) -> None:
        if not mask.any():
            return
        for i in np.flatnonzero(mask):
            self.add(i, name, message_for_row(int(i)))

    def has(self, i: int, name: str) -> bool:
        return name in self.by_row.get(i, ())

    def mask(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        if self.by_row:
            m[list(self.by_row)] = True
        return m

    def text(self, i: int) -> str:
        errs = self.by_row[i]
        return " | ".join(f"{k}: {'; '.join(v)}" for k, v in sorted(errs.items()))


@dataclass
class Parsed:
    """Typed input of ``n`` rows, before units and ranges are applied.

    ``raw`` holds numbers as sent (NaN = missing), ``unit`` the index of each number's unit
    in the compiled unit table (the canonical unit when none was sent), ``codes`` the small
    integer code of each enumeration or yes/no answer (-1 = missing), ``med_index`` which
    distinct medication list a row has (-1 = none given). An adapter that knows which
    columns hold a value in some row says so in ``numbers_sent`` and ``codes_sent`` (column
    indexes), and whether any unit was invalid in ``unit_bad_any``; None means "not known",
    and the engine then looks at the arrays. It only ever skips work with them.
    """

    n: int
    raw: np.ndarray
    unit: np.ndarray
    unit_given: np.ndarray
    unit_bad: np.ndarray
    codes: np.ndarray
    med_index: np.ndarray
    med_lists: list = field(default_factory=list)
    errors: RowErrors = None
    passthrough: dict = field(default_factory=dict)
    numbers_sent: set = None
    codes_sent: set = None
    unit_bad_any: bool = None


def empty(n, cx) -> Parsed:
    nf = len(cx.numeric)
    # column-major: the engine reads and writes whole columns
    return Parsed(
        n=n,
        raw=np.full((n, nf), np.nan, order="F"),
        unit=np.repeat(cx.canonical_unit[:, None], n, axis=1).T,
        unit_given=np.zeros((n, nf), dtype=bool, order="F"),
        unit_bad=np.zeros((n, nf), dtype=bool, order="F"),
        codes=np.full((n, len(cx.coded)), -1, dtype=np.int8, order="F"),
        med_index=np.full(n, -1, dtype=np.intp),
        errors=RowErrors(n),
    )


def is_missing_text(value: str) -> bool:
    return value.strip().lower() in MISSING_SPELLINGS



def printable(key) -> str:
    """A key safe to echo: lone surrogates and control characters escaped."""
    text = str(key)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:100]



def quote(text) -> str:
    """A cell value quoted for an error message, shortened and with unprintables escaped."""
    text = str(text)
    if len(text) > 40:
        text = text[:37] + "..."
    return repr(text)
