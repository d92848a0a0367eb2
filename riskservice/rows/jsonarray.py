"""A JSON array of patients, read and answered incrementally from its spooled upload.

Why: ``POST /v1/score/batch`` with a JSON array used to parse the whole body into Python objects
and build the whole answer before sending a byte: 1,000,000 rows (74 MB) took 39.5 s to the
first byte and 4.27 GB of worker memory (issue 22, finding 2).

How: :func:`scan` finds where each element of the top-level array starts and ends, without
building any object: NumPy passes over 4 MiB at a time mark the quotes that are not escaped,
the bytes inside strings, and the brackets and commas outside them; the nesting depth is their
running sum. The structure is checked there, before anything is answered (400: not an array,
unbalanced brackets, an unterminated string, anything after the array, nesting deeper than
``MAX_JSON_DEPTH``; 413: more than ``BATCH_MAX_ROWS`` elements). :func:`iter_blocks` then reads
the elements back a block at a time and parses each one with the strict reader of single
requests (riskservice/api/jsonbody.py rules: no duplicate keys, NaN, lone surrogates or numbers
beyond a double); an element it refuses becomes that row's error, and the stream goes on.

Why not ijson (yajl2_c 3.6.0, tried): a 100,000-deep array (200 kB) took 3.9 GB before MemoryError,
a lone surrogate escape came back silently as ``?``, a dict subclass refusing duplicate keys
surfaced as ``SystemError``, and an over-long integer ended the whole stream.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 4 * 1024 * 1024
_WHITESPACE = b" \t\r\n"
_QUOTE, _BACKSLASH = 0x22, 0x5C
_OPEN = (0x5B, 0x7B)     # [ {
_CLOSE = (0x5D, 0x7D)    # ] }
_COMMA = 0x2C


class ArrayError(ValueError):
    """The body is not a JSON array whose elements can be found (a 400 before any row)."""


class TooDeep(ArrayError):
    pass


class TooManyElements(ValueError):
    def __init__(self, limit: int):
        super().__init__(f"more than {limit} records")
        self.limit = limit


@dataclass
class Elements:
    """Byte offsets of each element of the array: ``starts[i]`` (inclusive) to ``ends[i]`` (exclusive)."""

    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def scan(f, depth_limit: int, max_elements: int | None = None, chunk: int = CHUNK) -> Elements:
    """The elements of the JSON array in the binary file ``f`` (read from its start)."""
    f.seek(0)
    in_string, backslashes, depth = False, 0, 0
    offset = 0
    opened = closed = None          # offsets of the array's [ and ]
    separators: list = []           # offsets of the commas between elements, per chunk
    count = 0
    while True:
        data = f.read(chunk)
        if not data:
            break
        a = np.frombuffer(data, dtype=np.uint8)
        n = len(a)
        # Only the quotes and the bracket/comma bytes matter: work on their positions alone.
        special = np.flatnonzero(_SPECIAL[a])
        is_quote = a[special] == _QUOTE
        quote_at = np.flatnonzero(is_quote)
        real = _unescaped(a, special[quote_at], backslashes)
        toggles = np.zeros(len(special), dtype=np.uint8)
        toggles[quote_at[real]] = 1
        # Outside strings: an even number of real quotes before (plus the carried state).
        parity = np.bitwise_xor.accumulate(toggles) if len(toggles) else toggles
        structural = special[~is_quote & (parity == (1 if in_string else 0))]
        if len(structural):
            if closed is not None:
                raise ArrayError("The body is not a single JSON array (something follows it).")
            chars = a[structural]
            delta = _DELTA[chars]
            after = depth + np.cumsum(delta, dtype=np.int64)
            if after.max() > depth_limit:
                raise TooDeep(f"The JSON is nested deeper than {depth_limit} levels.")
            if after.min() < 0:
                raise ArrayError("The body's brackets do not match.")
            if opened is None:
                if chars[0] != _OPEN[0]:
                    raise ArrayError("Send a JSON array of patient objects.")
                opened = offset + int(structural[0])
            ends = np.flatnonzero(after == 0)
            if len(ends):
                closed = offset + int(structural[ends[0]])
                if chars[ends[0]] != _CLOSE[0] or len(structural) > ends[0] + 1:
                    raise ArrayError("The body is not a single JSON array (something follows it, or its "
                                     "brackets do not match).")
            commas = structural[(chars == _COMMA) & (after == 1)]
            separators.append(commas.astype(np.int64) + offset)
            count += len(commas)
            if max_elements is not None and count + 1 > max_elements:
                raise TooManyElements(max_elements)
            depth = int(after[-1])
        in_string = (int(np.count_nonzero(real)) + in_string) % 2 == 1
        backslashes = _trailing_backslashes(data, backslashes)
        offset += n
    if opened is None or closed is None or in_string:
        raise ArrayError("The body is not a complete JSON array (it ends before its closing bracket).")
    _check_blank(f, 0, opened)
    _check_blank(f, closed + 1, offset)
    seps = np.concatenate(separators) if separators else np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([opened + 1], seps + 1))
    ends = np.concatenate((seps, [closed]))
    if len(seps) == 0 and _is_blank(f, opened + 1, closed):
        return Elements(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))   # []
    return Elements(starts.astype(np.int64), ends.astype(np.int64))


_SPECIAL = np.zeros(256, dtype=bool)
_SPECIAL[[_QUOTE, *_OPEN, *_CLOSE, _COMMA]] = True
_DELTA = np.zeros(256, dtype=np.int64)
_DELTA[list(_OPEN)] = 1
_DELTA[list(_CLOSE)] = -1


def _unescaped(a: np.ndarray, quotes: np.ndarray, carried: int) -> np.ndarray:
    """For each quote position, whether it is a real quote: not escaped by an odd run of
    backslashes just before it (``carried``: the backslashes that ended the previous chunk).
    Most quotes follow no backslash at all."""
    keep = np.ones(len(quotes), dtype=bool)
    if not len(quotes):
        return keep
    prev = np.where(quotes > 0, a[np.maximum(quotes - 1, 0)], _BACKSLASH if carried else 0)
    for k in np.flatnonzero(prev == _BACKSLASH).tolist():   # rare: count the run by hand
        q, run = int(quotes[k]), 0
        while q - run - 1 >= 0 and a[q - run - 1] == _BACKSLASH:
            run += 1
        if q - run == 0:
            run += carried
        keep[k] = run % 2 == 0
    return keep


def _trailing_backslashes(data: bytes, carried: int) -> int:
    stripped = data.rstrip(b"\\")
    run = len(data) - len(stripped)
    return run + carried if not stripped else run


def _is_blank(f, start: int, end: int) -> bool:
    f.seek(start)
    left = end - start
    while left > 0:
        data = f.read(min(left, CHUNK))
        if not data:
            break
        if data.strip(_WHITESPACE):
            return False
        left -= len(data)
    return True


def _check_blank(f, start: int, end: int) -> None:
    if not _is_blank(f, start, end):
        raise ArrayError("The body is not a single JSON array (something comes before or after it).")


def iter_blocks(f, elements: Elements, parse, block: int):
    """Lists of up to ``block`` parsed elements; an element ``parse`` refuses (the strict reader's
    BadJSON) is a :class:`Refused` in its place."""
    for first in range(0, len(elements), block):
        last = min(first + block, len(elements))
        base = int(elements.starts[first])
        f.seek(base)
        data = f.read(int(elements.ends[last - 1]) - base)
        out = []
        for s, e in zip(elements.starts[first:last].tolist(), elements.ends[first:last].tolist(), strict=True):
            raw = data[s - base:e - base].strip(_WHITESPACE)
            try:
                out.append(parse(raw))
            except Exception as exc:  # noqa: BLE001 - the reader's refusal becomes this row's error
                out.append(Refused(_reason(exc)))
        yield out


@dataclass
class Refused:
    """An element that is not acceptable JSON, with the reader's reason."""

    reason: str


def _reason(exc: ValueError) -> str:
    text = getattr(exc, "description", None) or str(exc) or "not valid JSON"
    return text if text.endswith(".") else text + "."
