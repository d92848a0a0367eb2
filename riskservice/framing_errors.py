"""problem+json, not gunicorn's HTML page, for requests gunicorn answers itself.

Why: gunicorn answers a request it cannot parse (a bad request line, a negative or non-numeric
Content-Length, Content-Length together with chunked, an oversized header) itself, with an HTML body
that quotes the offending line, and logs the parser's message, which can quote a header value. Every
other error of the service is RFC 9457 problem+json, and no input text may reach a log line. The
worker (riskservice/gunicorn_worker.py) sends these answers instead: the status gunicorn would have
chosen, a fixed title and detail, and a log line naming only the kind of error. A fault that
escapes the app (rare: the app has its own error handlers) is a 500 problem+json, logged with the
exception's type and code location only; gunicorn would log the URL, which may hold a token.
"""
from __future__ import annotations

import logging
import random
import ssl

import orjson
from gunicorn.http import errors as http_errors
from gunicorn.util import write_nonblock

from riskservice.api.errors import scrubbed_stack

log = logging.getLogger("riskservice.framing")

# gunicorn's own status for the parser errors that are not a plain 400 (gunicorn/workers/base.py).
_STATUS = {
    http_errors.LimitRequestLine: (414, "URI Too Long"),
    http_errors.LimitRequestHeaders: (431, "Request Header Fields Too Large"),
    http_errors.UnsupportedTransferCoding: (501, "Not Implemented"),
    http_errors.ExpectationFailed: (417, "Expectation Failed"),
    http_errors.ForbiddenProxyRequest: (403, "Forbidden"),
    ssl.SSLError: (403, "Forbidden"),
}
_DETAIL = ("The request's framing could not be read (request line, headers, Content-Length or "
           "Transfer-Encoding); it was refused before the service looked at it.")
_FAULT = "The server failed while handling the request; the log has the request id."


def is_client_error(exc: BaseException) -> bool:
    """A request the HTTP parser (or the TLS layer) refused, as opposed to a fault of the server."""
    return isinstance(exc, (http_errors.ParseException, ssl.SSLError)) and not isinstance(
        exc, (http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName,
              http_errors.ConfigurationProblem))


def status_of(exc: BaseException) -> tuple[int, str]:
    for kind, answer in _STATUS.items():
        if isinstance(exc, kind):
            return answer
    return 400, "Bad Request"


def answer(exc: BaseException) -> bytes:
    """The whole HTTP response for a request gunicorn could not hand to the app, or for a fault
    that escaped it: problem+json, connection closed."""
    client = is_client_error(exc)
    status, title = status_of(exc) if client else (500, "Internal Server Error")
    request_id = f"{random.getrandbits(128):032x}"
    body = orjson.dumps({"type": "about:blank", "title": title, "status": status,
                         "detail": _DETAIL if client else _FAULT, "request_id": request_id})
    head = (f"HTTP/1.1 {status} {title}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\nX-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n\r\n")
    if client:
        log.warning("request refused before the app ran: %d %s", status, title,
                    extra={"request_id": request_id, "error_type": type(exc).__name__})
    else:  # where, never what: an exception's message or the URL may quote an input
        log.error("request failed outside the app's error handlers", extra={
            "request_id": request_id, "error_type": type(exc).__name__, "stack": scrubbed_stack(exc)})
    return head.encode("ascii") + body


def send(sock, exc: BaseException) -> None:
    """Answer on the raw socket, as gunicorn's own error page would be."""
    try:
        write_nonblock(sock, answer(exc))
    except OSError:
        pass  # the client is gone; nothing to tell it
