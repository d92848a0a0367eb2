"""Request ids: accepted from the caller when well-formed, otherwise generated."""
import re
import uuid

from flask import g, request

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current() -> str:
    return getattr(g, "request_id", None) or "-"


def init_app(app):
    @app.before_request
    def _assign():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _VALID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _echo(response):
        response.headers["X-Request-ID"] = current()
        return response
