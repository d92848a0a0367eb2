"""Structured JSON access log on stdout: one line per request, never a body or a value.

Only the request id, method, route template (``/cds-services/<service_id>``, not the path),
status, latency and byte counts are written, so no patient data can reach the log. The
query string is not logged either.
"""
from __future__ import annotations

import json
import logging
import sys
import time

from flask import g, request

from riskservice.api import requestid

log = logging.getLogger("riskservice.access")
UNMATCHED = "<unmatched>"
# Attributes of a LogRecord that callers may add with extra= and that the formatter keeps.
SAFE_EXTRAS = ("request_id", "access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: UTC time, level, logger, message and the safe extras."""

    converter = time.gmtime

    def format(self, record):
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
                "level": record.levelname, "logger": record.name}
        access = getattr(record, "access", None)
        if access:
            line.update(access)
        else:
            line["message"] = record.getMessage()
            if getattr(record, "request_id", None):
                line["request_id"] = record.request_id
        return json.dumps(line, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at emit time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(level=logging.INFO):
    """Send the ``riskservice`` loggers to stdout as JSON (once per process)."""
    logger = logging.getLogger("riskservice")
    if not any(getattr(h, "_riskservice", False) for h in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        handler._riskservice = True
        logger.addHandler(handler)
    logger.setLevel(level)


def route_of(req) -> str:
    """The matched route template, bounded in number (metrics labels, logs)."""
    rule = req.url_rule
    return rule.rule if rule is not None else UNMATCHED


def init_app(app):
    @app.before_request
    def _start():
        g.started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = getattr(g, "started", None)
        latency_ms = (time.perf_counter() - started) * 1000 if started else None
        log.info("access", extra={"access": {
            "request_id": requestid.current(),
            "method": request.method,
            "route": route_of(request),
            "status": response.status_code,
            "latency_ms": round(latency_ms, 3) if latency_ms is not None else None,
            "request_bytes": request.content_length or 0,
            # None for streamed answers (batch), whose size is not known up front.
            "response_bytes": None if response.is_streamed else response.calculate_content_length(),
        }})
        return response
