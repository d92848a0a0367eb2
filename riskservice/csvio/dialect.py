"""The CSV dialect of one upload: delimiter, decimal mark, encoding and output safety.

Spreadsheets export comma, semicolon or tab separated files, with a decimal comma in many
locales. The delimiter is detected from the header (the candidate that splits it into the
most columns) unless the caller names it; the decimal mark is never guessed.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass

DELIMITERS = {",": ",", "comma": ",", ";": ";", "semicolon": ";", "\t": "\t", "tab": "\t", "\\t": "\t",
              "|": "|", "pipe": "|"}
DETECTED = (",", ";", "\t")
DECIMALS = {".": ".", "point": ".", "dot": ".", ",": ",", "comma": ","}


class DialectError(ValueError):
    """A delimiter, decimal mark or encoding the reader cannot use; the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CsvOptions:
    """What the caller said (``None`` = detect/default) about the input and the output."""

    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    csv_safe: bool = True   # neutralise cells a spreadsheet would run as a formula

    @classmethod
    def parse(cls, delimiter=None, decimal=None, encoding=None, csv_safe=True) -> CsvOptions:
        """Options from user strings (query parameters or CLI flags); DialectError when unusable."""
        delim = None
        if delimiter not in (None, ""):
            delim = DELIMITERS.get(delimiter if delimiter in DELIMITERS else delimiter.strip().lower())
            if delim is None:
                raise DialectError("delimiter", f"Must be one of: comma, semicolon, tab, pipe "
                                   f"(or the character itself); got {delimiter!r}.")
        dec = "."
        if decimal not in (None, ""):
            dec = DECIMALS.get(decimal.strip().lower())
            if dec is None:
                raise DialectError("decimal", f"Must be '.' or ','; got {decimal!r}.")
        if dec == "," and delim == ",":
            raise DialectError("decimal", "A decimal comma needs another delimiter (semicolon or tab).")
        return cls(delimiter=delim, decimal=dec, encoding=encoding, csv_safe=csv_safe)


def detect_delimiter(header_text: str) -> str:
    """The candidate delimiter that splits the header line into the most fields (comma on ties)."""
    best, width = ",", 1
    for candidate in DETECTED:
        try:
            n = len(next(csv.reader([header_text], delimiter=candidate, strict=True), []))
        except csv.Error:
            continue
        if n > width:
            best, width = candidate, n
    return best


def delimiter_hint(names: list, delimiter: str) -> str | None:
    """When the header came out as one column holding another delimiter, say so (not 'age missing')."""
    if len(names) != 1:
        return None
    others = [d for d in DETECTED if d != delimiter and d in names[0]]
    if not others:
        return None
    shown = {",": "comma", ";": "semicolon", "\t": "tab"}
    return (f"the header is one column when split at {shown.get(delimiter, repr(delimiter))}s; "
            f"the file looks {shown[others[0]]}-separated: pass delimiter={shown[others[0]]} "
            "(or leave the delimiter out to detect it)")
