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

BLOCK_SIZE = 1 << 20  # 1 MiB of CSV text per block (~9k rows): measured fastest, and half the memory of 2 MiB
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
            n = count_lf(buf, clean)
            yield FastBlock(buf[:clean], line, n, clean)
            line += n
        if clean == end:
            buf = buf[end:]
            continue
        # from the first problem to the end of this block's lines (and on, inside a quoted cell)
        block, buf, eof = read_exact(buf[clean:], stream, delimiter, line, eof, end - clean, block_size)
        line += block.lines
        yield block


def count_lf(buf: bytes, end: int) -> int:
    """``buf.count(b"\n", 0, end)``, about 5x faster on a 1 MiB block (CPython counts a
    one-byte needle with its general search: 0.8 ms a MiB, most of the cost of splitting)."""
    if end < 4096:
        return buf.count(b"\n", 0, end)
    return int(np.count_nonzero(np.frombuffer(buf, dtype=np.uint8, count=end) == LF))


def clean_prefix(buf: bytes, end: int, delim: int) -> int:
    """Length of the longest run of whole lines from the start of ``buf[:end]`` in which every
    line is one record and pyarrow and the strict reader must agree on its cells."""
    if buf.find(b'"', 0, end) < 0 and (buf.find(b"\r", 0, end) < 0
                                       or buf.count(b"\r", 0, end) == buf.count(b"\r\n", 0, end)):
        return end  # the common case, at memchr speed
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


class _Feed:
    """The decoded lines a csv.reader pulls, one at a time; knows where each record started."""

    def __init__(self, src: _Lines):
        self.src, self.k, self.start, self.size, self.undecodable = src, 0, 0, 0, False

    def __iter__(self):
        return self

    def __next__(self):
        if self.k >= len(self.src.lines) and not self.src.more():
            raise StopIteration
        raw = self.src.lines[self.k]
        self.k += 1
        self.size += len(raw)
        if self.size > MAX_RECORD_BYTES:
            raise _TooLong
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.undecodable = True
            return raw.decode("utf-8", "surrogateescape")

    def begin(self, k):
        self.k = self.start = k
        self.size, self.undecodable = 0, False


def read_exact(buf, stream, delimiter, first_line, eof, min_bytes, block_size):
    """Read records with the strict ``csv`` reader from the start of ``buf`` until at least
    ``min_bytes`` are consumed, stopping between records.

    Returns (SlowBlock, unread bytes, eof). A quoted cell may pull further blocks from
    ``stream``; lines read but not consumed are handed back. A refused record becomes an
    error at its first line, and reading starts again on the line after it.
    """
    src = _Lines(buf, stream, eof, block_size)
    feed = _Feed(src)
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    block = SlowBlock(first_line=first_line)
    consumed = 0
    while feed.start < len(src.lines) and consumed < min_bytes:
        line = first_line + feed.start
        try:
            cells = next(reader)
        except StopIteration:
            break
        except (csv.Error, _TooLong) as exc:
            if isinstance(exc, _TooLong):
                message = (f"line {line} starts a record longer than {MAX_RECORD_BYTES >> 20} MiB "
                           "(an unclosed quote?); the row could not be read")
            else:
                message = _explain(str(exc), line)
            block.records.append(Record(line, error=message))
            consumed += len(src.lines[feed.start])
            feed.begin(feed.start + 1)
            reader = csv.reader(feed, delimiter=delimiter, strict=True)
            continue
        if feed.undecodable:
            block.records.append(Record(line, fields=[_SURROGATE.sub("\ufffd", c) for c in cells],
                                        error=f"line {line} holds bytes that are not valid text in the "
                                              "declared encoding; the row was not scored"))
        else:
            block.records.append(Record(line, fields=cells))
        consumed += feed.size
        feed.begin(feed.k)
    block.lines = feed.start
    block.nbytes = consumed
    rest = b"".join(src.lines[feed.start:]) + src.partial
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
