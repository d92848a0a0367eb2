"""Input encodings: detect a byte-order mark, transcode anything else to UTF-8 on the fly.

The record reader works on UTF-8 bytes only. UTF-16 and Latin-1 exports are transcoded
block by block; a sequence the declared encoding cannot decode becomes a lone surrogate,
written as invalid UTF-8, so that one row gets an error instead of the file failing.
"""
from __future__ import annotations

import codecs

BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Accepted names (Content-Type charset, --encoding) -> Python codec.
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8", "utf-8-sig": "utf-8",
    "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
    "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1", "iso8859-1": "latin-1",
    "windows-1252": "cp1252", "cp1252": "cp1252",
}
_MARK = "riskservice.undecodable"


def _mark(exc):
    """Replace an undecodable span by one lone surrogate (invalid once written as UTF-8)."""
    return "\udcff", exc.end


codecs.register_error(_MARK, _mark)


class UnknownEncoding(ValueError):
    """An encoding name outside :data:`ENCODINGS`."""


def codec_for(name: str | None) -> str:
    if name is None:
        return "utf-8"
    codec = ENCODINGS.get(name.strip().lower())
    if codec is None:
        raise UnknownEncoding(f"Unsupported encoding {name!r}; use one of: utf-8, utf-16, latin-1, windows-1252.")
    return codec


class _Prefixed:
    """A non-seekable stream with some already-read bytes put back in front."""

    def __init__(self, raw, prefix: bytes):
        self.raw, self.prefix = raw, prefix

    def read(self, n=-1):
        if not self.prefix:
            return self.raw.read(n)
        head, self.prefix = self.prefix, b""
        if n is None or n < 0:
            return head + self.raw.read()
        if n <= len(head):
            head, self.prefix = head[:n], head[n:]
            return head
        return head + self.raw.read(n - len(head))

    def readline(self, limit=-1):
        if not self.prefix:
            return self.raw.readline(limit)
        head, self.prefix = self.prefix, b""
        cut = head.find(b"\n")
        if cut >= 0 and (limit is None or limit < 0 or cut < limit):
            self.prefix = head[cut + 1:]
            return head[:cut + 1]
        if limit is not None and 0 <= limit <= len(head):
            self.prefix = head[limit:]
            return head[:limit]
        rest = -1 if limit is None or limit < 0 else limit - len(head)
        return head + self.raw.readline(rest)


class _Utf8:
    """Any encoding in, UTF-8 bytes out, incrementally."""

    def __init__(self, raw, codec):
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(codec)(errors=_MARK)
        self.buf, self.eof = b"", False

    def _fill(self, want):
        data = self.raw.read(max(want, 1 << 16))
        text = self.decoder.decode(data, final=not data)
        self.eof = not data
        self.buf += text.encode("utf-8", "surrogatepass")

    def read(self, n=-1):
        while not self.eof and (n is None or n < 0 or len(self.buf) < n):
            self._fill(1 << 20 if n is None or n < 0 else n)
        if n is None or n < 0:
            out, self.buf = self.buf, b""
        else:
            out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def readline(self, limit=-1):
        while not self.eof and b"\n" not in self.buf and (limit is None or limit < 0 or len(self.buf) < limit):
            self._fill(1 << 16)
        cut = self.buf.find(b"\n")
        end = len(self.buf) if cut < 0 else cut + 1
        if limit is not None and limit >= 0:
            end = min(end, limit)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out


def open_input(raw, encoding: str | None = None):
    """(stream of UTF-8 bytes, codec name) for ``raw``; a byte-order mark wins over ``encoding``.

    A UTF-8 stream is returned as is (or with its peeked bytes put back), so the fast path
    pays nothing; a UTF-8 BOM is skipped.
    """
    codec = codec_for(encoding)
    seekable = _seekable(raw)
    start = raw.tell() if seekable else 0
    head = raw.read(4)
    bom_codec, skip = None, 0
    for bom, name in BOMS:
        if head.startswith(bom):
            bom_codec, skip = name, len(bom)
            break
    if bom_codec is not None:
        codec = "utf-8" if bom_codec == "utf-8" else ("utf-16-le" if head.startswith(codecs.BOM_UTF16_LE)
                                                       else "utf-16-be")
    elif codec == "utf-16":
        codec = "utf-16-le"  # no BOM: Windows exports are little-endian
    if seekable:
        raw.seek(start + skip)
        stream = raw
    else:
        stream = _Prefixed(raw, head[skip:])
    if codec == "utf-8":
        return stream, codec
    return _Utf8(stream, codec), codec


def _seekable(raw) -> bool:
    try:
        return raw.seekable()
    except (AttributeError, ValueError, OSError):
        return False
