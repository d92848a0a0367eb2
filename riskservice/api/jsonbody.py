"""Read a JSON request body strictly: right media type, whole body within the size limit, valid
UTF-8 JSON, bounded depth, and nothing a later step could choke on.

Refused here (400 unless noted), each with a message that names the problem but no value:
a media type other than the route's (415, e.g. ``application/evil+json`` on /v1/score); a
chunked body longer than the limit (413: the stream is read to its end, never truncated);
``NaN``/``Infinity`` literals; duplicate keys in one object (the last would silently win);
numbers beyond the range of a double (a 400-digit integer); unpaired UTF-16 surrogate escapes
(``"\\ud800"``: not text, and no UTF-8 encoder can echo them back).
"""
from __future__ import annotations

import json
import math
import re

import orjson
from flask import current_app, request

from riskservice.api.errors import BadJSON, UnsupportedType

JSON_TYPES = ("application/json",)
_CHUNK = 64 * 1024
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_FLOAT_MAX_DIGITS = 309  # 10**309 > the largest double (1.8e308)
# orjson reads an integer beyond 64 bits as a float (>= 1.8e19 or < -9.2e18); the strict reader
# keeps it an integer. A float this large sends the body to the strict reader.
_INT64_SAFE = 9.2e18


class _Refused(ValueError):
    """A value the strict parser will not accept (carries a value-free message)."""


def json_body(media_types: tuple[str, ...] = JSON_TYPES, what: str = "the request"):
    """The parsed body of the current request (any JSON value; callers check the shape)."""
    req = request._get_current_object()  # one look-up through Flask's proxy (requestid.py says why)
    mimetype = req.environ.get("CONTENT_TYPE")
    if mimetype not in media_types:  # anything but the bare media type: parse the header
        mimetype = (req.mimetype or "").lower()
    if mimetype not in media_types:
        raise UnsupportedType(f"Send {what} as {' or '.join(media_types)}"
                              f"{' (got ' + mimetype + ')' if mimetype else ''}.")
    return parse(read_body(req), int(current_app._get_current_object().config["MAX_JSON_DEPTH"]))


def read_body(req=None) -> bytes:
    """The whole body, read chunk by chunk until its end. Werkzeug's limited stream raises 413
    when a chunked body passes MAX_CONTENT_LENGTH (``get_data`` would stop there silently)."""
    stream, chunks = (req or request).stream, []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def parse(raw: bytes, depth_limit: int):
    value = _plain(raw, depth_limit)
    if value is not _NOT_PLAIN:
        return value
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJSON(f"The body is not UTF-8 encoded JSON (invalid byte at position {exc.start}).") from None
    check_depth(text, depth_limit)
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_int=_int, parse_float=_float,
                           object_pairs_hook=_no_duplicates)
    except _Refused as exc:
        raise BadJSON(f"The body is not acceptable JSON: {exc}") from None
    except RecursionError:
        raise BadJSON(f"The JSON is nested deeper than {depth_limit} levels.") from None
    except ValueError as exc:
        raise BadJSON(f"The body is not valid JSON: {_reason(exc)}") from None
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise BadJSON("The body is not acceptable JSON: a string holds an unpaired UTF-16 surrogate "
                      "escape (\\ud800-\\udfff), which is not text.")
    return value


_NOT_PLAIN = object()


def _plain(raw: bytes, depth_limit: int):
    """The value of an ordinary body, read by orjson (a fifth of the strict reader's time), or
    _NOT_PLAIN for any body the strict reader below must judge: one orjson refuses (bad UTF-8,
    NaN, infinity, lone surrogates, syntax: the strict reader then words the refusal), one it
    could read differently (a float of 9.2e18 or more may be an integer beyond 64 bits), one
    that could nest too deep, and one whose colons are not all keys of distinct names (a
    duplicate key, or a colon in a string). Both readers give the same value for every body
    that passes here."""
    if raw.count(b"[") + raw.count(b"{") > depth_limit:
        return _NOT_PLAIN
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _NOT_PLAIN
    # Outside strings, a colon follows each key: as many colons as distinct keys read means
    # no key was given twice (orjson keeps the last silently) and no string holds a colon.
    return value if _keys(value) == raw.count(b":") else _NOT_PLAIN


def _keys(value) -> int:
    """The number of keys in all objects of ``value``; -1 when a float may be a long integer."""
    t = type(value)
    if t is dict:
        count, items = len(value), value.values()
    elif t is list:
        count, items = 0, value
    else:
        return -1 if t is float and not -_INT64_SAFE < value < _INT64_SAFE else 0
    for v in items:
        t = type(v)
        if t is float:
            if not -_INT64_SAFE < v < _INT64_SAFE:
                return -1
        elif t is dict or t is list:
            inner = _keys(v)
            if inner < 0:
                return -1
            count += inner
    return count


def _reject_constant(name):
    raise _Refused(f"{name} is not a JSON number")


def _int(text: str):
    if len(text.lstrip("-")) >= _FLOAT_MAX_DIGITS:
        raise _Refused(f"an integer of {len(text.lstrip('-'))} digits is beyond the range of a number")
    return int(text)


def _float(text: str):
    value = float(text)
    if math.isinf(value):
        raise _Refused("a number is beyond the range of a double (about 1.8e308)")
    return value


def _no_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _Refused(f"duplicate key {_safe_key(key)!r} in one object")
            seen.add(key)
    return obj


def _safe_key(key: str) -> str:
    """Keys are field names, not values; still bound and sanitise them for the message."""
    return key[:64].encode("utf-8", "backslashreplace").decode("utf-8")


def _has_lone_surrogate(value) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _reason(exc):
    return str(exc)[:200]


def check_depth(text: str, limit: int) -> None:
    """Refuse absurd nesting before the parser recurses (cheap scan outside strings)."""
    if text.count("[") + text.count("{") <= limit:
        return  # depth cannot exceed the number of opening brackets: skip the scan
    depth, in_string, escaped = 0, False, False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                raise BadJSON(f"The JSON is nested deeper than {limit} levels.")
        elif ch in "]}":
            depth -= 1
