"""RFC 4180 records from a stream of UTF-8 bytes, block by block, one outcome per record.

Most of a file is plain: one record per line, quotes (if any) opened at the start of a cell
and closed before its delimiter. :func:`clean_prefix` proves that with a few vectorised
passes and hands such lines to pyarrow as a :class:`FastBlock`. Everything else (a line
break inside quotes, a stray quote, a bare carriage return) is read record by record with
the ``csv`` module in strict mode as a :class:`SlowBlock`, which may follow a quoted field
across any number of blocks. A record the strict reader refuses (an unclosed quote, text
after a closing quote) becomes an error at its first line and reading resumes on the next
line, so a broken quote costs one row, never the rest of the file.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field

import numpy as np

# One record may span at most this much text (a quoted note with line breaks, say); beyond
# it the record is refused as an unclosed quote and reading resumes on its next line.
MAX_RECORD_BYTES = 32 << 20
csv.field_size_limit(max(csv.field_size_limit(), MAX_RECORD_BYTES))

QUOTE, LF, CR = 0x22, 0x0A, 0x0D
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class FastBlock:
    """Complete lines, exactly one record each, ready for pyarrow."""

    data: bytes
    first_line: int
    lines: int
    nbytes: int


@dataclass
class Record:
    """One record read exactly: its cells, or why it could not be read."""

    line: int
    fields: list | None = None
    error: str | None = None


@dataclass
class SlowBlock:
    records: list = field(default_factory=list)
    first_line: int = 0
    lines: int = 0
    nbytes: int = 0


def split_blocks(stream, delimiter: str, block_size: int, first_line: int = 2):
    """Yield FastBlock/SlowBlock in input order until the stream ends.

    ``first_line`` is the physical line number of the stream's first line (the header is 1).
    """
    delim = ord(delimiter)
    buf, eof, line = b"", False, first_line
    while True:
        while not eof and (len(buf) < block_size or buf.rfind(b"\n") < 0):
            data = stream.read(block_size)
            if not data:
                eof = True
            else:
                buf += data
        if eof and buf and not buf.endswith(b"\n"):
            buf += b"\n"
        if not buf:
            return
        end = buf.rfind(b"\n") + 1
        clean = clean_prefix(buf, end, delim)
        if clean:
            n = buf.count(b"\n", 0, clean)
            yield FastBlock(buf[:clean], line, n, clean)
            line += n
            buf = buf[clean:]
            continue
        problem_end = buf.find(b"\n") + 1
        block, buf, eof = read_exact(buf, stream, delimiter, line, eof, problem_end, block_size)
        line += block.lines
        yield block


def clean_prefix(buf: bytes, end: int, delim: int) -> int:
    """Length of the longest run of whole lines from the start of ``buf[:end]`` in which every
    line is one record and pyarrow and the strict reader must agree on its cells."""
    if buf.count(b'"', 0, end) == 0 and buf.count(b"\r", 0, end) == buf.count(b"\r\n", 0, end):
        return end
    arr = np.frombuffer(buf, dtype=np.uint8, count=end)
    quotes = np.flatnonzero(arr == QUOTE)
    newlines = np.flatnonzero(arr == LF)
    first_bad = end
    crs = np.flatnonzero(arr == CR)
    if crs.size:
        bare = crs[(crs + 1 >= end) | (arr[np.minimum(crs + 1, end - 1)] != LF)]
        if bare.size:
            first_bad = min(first_bad, int(bare[0]))
    if quotes.size:
        inside = (np.searchsorted(quotes, newlines) % 2) == 1   # a line break inside quotes
        if inside.any():
            first_bad = min(first_bad, int(newlines[np.argmax(inside)]))
        openers, closers = quotes[0::2], quotes[1::2]
        before = arr[np.maximum(openers - 1, 0)]
        ok_open = (openers == 0) | (before == delim) | (before == LF) | (before == QUOTE)
        after = arr[np.minimum(closers + 1, end - 1)]
        ok_close = (after == delim) | (after == LF) | (after == CR) | (after == QUOTE)
        if not ok_open.all():
            first_bad = min(first_bad, int(openers[np.argmin(ok_open)]))
        if not ok_close.all():
            first_bad = min(first_bad, int(closers[np.argmin(ok_close)]))
    if first_bad >= end:
        return end
    # back to the start of the line that holds the first problem
    k = int(np.searchsorted(newlines, first_bad))
    return 0 if k == 0 else int(newlines[k - 1]) + 1


class _TooLong(Exception):
    pass


class _Lines:
    """Lines (bytes, with their ends) read on demand from ``buf`` and then the stream."""

    def __init__(self, buf, stream, eof, block_size):
        end = buf.rfind(b"\n") + 1
        self.lines = _split_lf(buf[:end])
        self.partial = buf[end:]
        self.stream, self.eof, self.block_size = stream, eof, block_size

    def more(self) -> bool:
        """Append the next block's complete lines; False at the end of the stream."""
        while not self.eof:
            data = self.stream.read(self.block_size)
            if not data:
                self.eof = True
                break
            data = self.partial + data
            end = data.rfind(b"\n") + 1
            self.partial = data[end:]
            if end:
                self.lines.extend(_split_lf(data[:end]))
                return True
        if self.partial:
            self.lines.append(self.partial + b"\n")
            self.partial = b""
            return True
        return False


def _split_lf(data: bytes) -> list:
    """Split after each LF only (a CR alone is data; bytes.splitlines would cut there too)."""
    parts = data.split(b"\n")
    last = parts.pop()
    out = [p + b"\n" for p in parts]
    if last:
        out.append(last)
    return out


def read_exact(buf, stream, delimiter, first_line, eof, min_bytes, block_size):
    """Read records with the strict ``csv`` reader from the start of ``buf`` until at least
    ``min_bytes`` are consumed and no complete line of ``buf`` is left mid-record.

    Returns (SlowBlock, unread bytes, eof). Quoted fields may pull further blocks from
    ``stream``; every line read but not consumed is handed back.
    """
    src = _Lines(buf, stream, eof, block_size)
    block = SlowBlock(first_line=first_line)
    i, consumed = 0, 0
    while i < len(src.lines) and consumed < min_bytes:
        start = i
        pulled = [0, 0]  # lines, bytes

        def feed():
            k = start
            while True:
                if k >= len(src.lines) and not src.more():
                    return
                raw = src.lines[k]
                k += 1
                pulled[0] += 1
                pulled[1] += len(raw)
                if pulled[1] > MAX_RECORD_BYTES:
                    raise _TooLong
                yield raw.decode("utf-8", "surrogateescape")

        line = first_line + start
        try:
            cells = next(csv.reader(feed(), delimiter=delimiter, strict=True))
        except _TooLong:
            block.records.append(Record(line, error=f"line {line} starts a record longer than "
                                        f"{MAX_RECORD_BYTES >> 20} MiB (an unclosed quote?); the row was not read"))
            pulled = [1, len(src.lines[start])]
        except csv.Error as exc:
            block.records.append(Record(line, error=_explain(str(exc), line)))
            pulled = [1, len(src.lines[start])]
        except StopIteration:  # nothing left (cannot happen at a line start; kept for safety)
            break
        else:
            if any(_SURROGATE.search(c) for c in cells):
                block.records.append(Record(line, fields=[_SURROGATE.sub("\ufffd", c) for c in cells],
                                            error=f"line {line} holds bytes that are not valid text in the "
                                                  "declared encoding; the row was not scored"))
            else:
                block.records.append(Record(line, fields=cells))
        i += pulled[0]
        consumed += pulled[1]
    block.lines = i
    block.nbytes = consumed
    rest = b"".join(src.lines[i:]) + src.partial
    return block, rest, src.eof


def _explain(message: str, line: int) -> str:
    if "unexpected end of data" in message:
        why = "opens a quoted cell that is never closed"
    elif "expected after" in message:
        why = ("has a quoted cell that does not end at a delimiter (an unclosed quote, or a quote "
               "inside a quoted cell that is not doubled)")
    elif "new-line character" in message:
        why = "has a carriage return outside quotes"
    elif "field larger than field limit" in message:
        why = "has a cell longer than the field limit"
    else:
        why = "is not valid CSV"
    return f"line {line} {why}; the row could not be read"
