"""RFC 9457 problem+json for every error, so no client ever has to parse an HTML page."""
from __future__ import annotations

import logging

from flask import Response, json, request
from werkzeug.exceptions import HTTPException

from riskservice.api import requestid
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


def problem(status: int, title: str, detail: str = None, type_: str = None, **extra) -> Response:
    body = {"type": type_ or "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["instance"] = request.path
    body["request_id"] = requestid.current()
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


def validation_response(exc: ValidationProblem) -> Response:
    extra = {"errors": exc.errors}
    if any("Unknown field." in msgs for msgs in exc.errors.values()):
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
        return problem(exc.code, exc.name, exc.description)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        # Log the type and where, never the request body or field values.
        log.error("unhandled %s on %s", type(exc).__name__, request.path,
                  extra={"request_id": requestid.current()})
        return problem(500, "Internal Server Error",
                       "An unexpected error occurred; the request id identifies it in the logs.")
