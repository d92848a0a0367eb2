"""RFC 9457 problem+json for every error, so no client ever has to parse an HTML page."""
from __future__ import annotations

import logging
import traceback

import orjson
from flask import Response, request
from werkzeug.exceptions import HTTPException

from riskservice.api import requestid
from riskservice.api.spool import InsufficientStorage, is_no_space
from riskservice.core.errors import UnapprovedKnowledge, ValidationProblem
from riskservice.core.fields import ALL_KEYS

log = logging.getLogger("riskservice.errors")
PROBLEM = "application/problem+json"


class BadJSON(HTTPException):
    code = 400
    description = "The body is not valid JSON."


class UnsupportedType(HTTPException):
    code = 415
    description = "Send the patient as application/json."


def problem(status: int, title: str, detail: str | None = None, type_: str | None = None, **extra) -> Response:
    body = {"type": type_ or "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body["request_id"] = requestid.current()
    body.update(extra)
    return Response(encode(body), status=status, mimetype=PROBLEM)


def encode(body) -> bytes:
    """JSON bytes that never fail: a string that is not valid Unicode text (a lone surrogate from
    the request, echoed as a field name) is written with U+FFFD in its place."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str)
    except (TypeError, orjson.JSONEncodeError):
        return orjson.dumps(text_safe(body), option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
                            default=str)


def text_safe(value):
    """``value`` with every string made valid Unicode (unpaired surrogates -> U+FFFD)."""
    if isinstance(value, str):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value) if _bad_text(value) else value
    if isinstance(value, dict):
        return {text_safe(k): text_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [text_safe(v) for v in value]
    return value


def _bad_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def scrubbed_stack(exc: BaseException) -> list[str]:
    """Where an exception happened (file:line in function), without its message or locals: a
    message may quote an input value (PHI), a code location cannot."""
    frames = traceback.extract_tb(exc.__traceback__)[-12:]
    return [f"{f.filename.rsplit('/site-packages/', 1)[-1]}:{f.lineno} in {f.name}" for f in frames]


def validation_response(exc: ValidationProblem) -> Response:
    extra = {"errors": exc.errors}
    if any(m.startswith("Unknown field.") for msgs in exc.errors.values() for m in msgs):
        extra["known_fields"] = list(ALL_KEYS)
    count = sum(len(v) for v in exc.errors.values())
    return problem(422, exc.title, f"{count} problem(s) in {len(exc.errors)} field(s); "
                   "see 'errors'.", type_="/problems/validation", **extra)


def init_app(app):
    @app.errorhandler(ValidationProblem)
    def _validation(exc):
        return validation_response(exc)

    @app.errorhandler(UnapprovedKnowledge)
    def _unapproved(exc):
        # The service is configured not to serve unreviewed knowledge: not the caller's fault.
        return problem(503, "Knowledge not approved for use", str(exc),
                       type_="/problems/unapproved-knowledge", unapproved_entries=exc.entries)

    @app.errorhandler(HTTPException)
    def _http(exc):
        response = problem(exc.code, exc.name, exc.description)
        allow = dict(exc.get_headers()).get("Allow")  # 405 must say which methods are allowed
        if allow:
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if is_no_space(exc):   # a full disk is the server's condition, not a fault: 507, logged without values
            log.error("no space left while handling %s", request.path,
                      extra={"request_id": requestid.current(), "error_type": type(exc).__name__})
            return problem(507, "Insufficient Storage", InsufficientStorage.description)
        # Log the type and where (stack of file:line), never the message, body or field values.
        log.error("unhandled %s on %s", type(exc).__name__, request.path,
                  extra={"request_id": requestid.current(), "error_type": type(exc).__name__,
                         "stack": scrubbed_stack(exc)})
        return problem(500, "Internal Server Error",
                       "An unexpected error occurred; the request id identifies it in the logs.")
