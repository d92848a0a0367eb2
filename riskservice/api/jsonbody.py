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

from flask import current_app, request

from riskservice.api.errors import BadJSON, UnsupportedType

JSON_TYPES = ("application/json",)
_CHUNK = 64 * 1024
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_FLOAT_MAX_DIGITS = 309  # 10**309 > the largest double (1.8e308)


class _Refused(ValueError):
    """A value the strict parser will not accept (carries a value-free message)."""


def json_body(media_types: tuple[str, ...] = JSON_TYPES, what: str = "the request"):
    """The parsed body of the current request (any JSON value; callers check the shape)."""
    mimetype = (request.mimetype or "").lower()
    if mimetype not in media_types:
        raise UnsupportedType(f"Send {what} as {' or '.join(media_types)}"
                              f"{' (got ' + mimetype + ')' if mimetype else ''}.")
    return parse(read_body(), int(current_app.config["MAX_JSON_DEPTH"]))


def read_body() -> bytes:
    """The whole body, read chunk by chunk until its end. Werkzeug's limited stream raises 413
    when a chunked body passes MAX_CONTENT_LENGTH (``get_data`` would stop there silently)."""
    stream, chunks = request.stream, []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def parse(raw: bytes, depth_limit: int):
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
