"""Read a JSON request body strictly: right content type, valid JSON, bounded depth."""
from __future__ import annotations

import json

from flask import current_app, request

from riskservice.api.errors import BadJSON, UnsupportedType


def json_body():
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise UnsupportedType()
    raw = request.get_data(cache=True)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJSON("The body is not UTF-8 encoded JSON.") from exc
    check_depth(text, current_app.config["MAX_JSON_DEPTH"])
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise BadJSON(f"The body is not valid JSON: {_reason(exc)}") from exc


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _reason(exc):
    text = str(exc)
    return text[:200]


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
