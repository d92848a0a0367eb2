"""Request ids: accepted from the caller when well-formed, otherwise generated."""
import random
import re

from flask import g, request

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current() -> str:
    return getattr(g, "request_id", None) or "-"


def init_app(app):
    @app.before_request
    def _assign():
        given = request.environ.get("HTTP_X_REQUEST_ID", "")  # the X-Request-ID header
        # 128 random bits; the random module reseeds after fork, so workers do not collide.
        g.request_id = given if _VALID.match(given) else f"{random.getrandbits(128):032x}"

    @app.after_request
    def _echo(response):
        response.headers["X-Request-ID"] = current()
        return response
