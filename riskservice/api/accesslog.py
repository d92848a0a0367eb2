"""Structured JSON access log on stdout: one line per request, never a body or a value.

Only the request id, method, route template (``/cds-services/<service_id>``, not the path),
status, latency and byte counts are written, so no patient data can reach the log. The
query string is not logged either. A streamed answer (a batch) is logged when it ends, as
``completed`` or ``aborted``, with its bytes and rows (issue 22, finding 8: a cut stream used to
look complete, logged at its first byte with ``response_bytes: null``).
"""
from __future__ import annotations

import logging
import sys
import time

import orjson
from flask import g, request
from werkzeug.sansio.utils import get_content_length

from riskservice.api import requestid

log = logging.getLogger("riskservice.access")
UNMATCHED = "<unmatched>"
# Attributes of a LogRecord that callers may add with extra= and that the formatter keeps.
SAFE_EXTRAS = ("request_id", "access", "error_type", "stack")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: UTC time, level, logger, message and the safe extras."""

    def format(self, record):
        access = getattr(record, "access", None)
        if access:
            return _access_line(record.created, record.levelname, record.name, access)
        line = {"ts": _timestamp(record.created), "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        for name in SAFE_EXTRAS[:1] + SAFE_EXTRAS[2:]:
            if getattr(record, name, None):
                line[name] = getattr(record, name)
        return _dumps(line)


def _access_line(created: float, levelname: str, logger: str, access: dict) -> str:
    """The access log's JSON line: written by the formatter and by accesslog._emit alike.

    The same text as ``_dumps({"ts": ..., "level": levelname, "logger": logger, **access})``,
    assembled from a prefix kept per (level, logger) and the access fields encoded alone."""
    prefix = _PREFIXES.get((levelname, logger))
    if prefix is None:
        if len(_PREFIXES) > 64 or not isinstance(levelname, str) or not isinstance(logger, str):
            return _dumps({"ts": _timestamp(created), "level": levelname, "logger": logger, **access})
        prefix = _PREFIXES[(levelname, logger)] = _dumps({"level": levelname, "logger": logger})[1:-1]
    if not access or _HEAD_KEYS.intersection(access):  # would be merged into the head: the slow way
        return _dumps({"ts": _timestamp(created), "level": levelname, "logger": logger, **access})
    return f'{{"ts":"{_timestamp(created)}",{prefix},{_dumps(access)[1:]}'


_PREFIXES: dict = {}
_HEAD_KEYS = frozenset(("ts", "level", "logger"))


def _dumps(line: dict) -> str:
    try:
        return orjson.dumps(line, default=str).decode("utf-8")
    except orjson.JSONEncodeError:  # a lone surrogate in a logged name, an integer beyond 64 bits (a
        # Content-Length of 99999999999999999999999): never a logging traceback, never a lost line
        from riskservice.api.errors import text_safe
        return orjson.dumps(_big_ints_as_text(text_safe(line)), default=str).decode("utf-8")


def _big_ints_as_text(value):
    if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < (1 << 64):
        return str(value)
    if isinstance(value, dict):
        return {k: _big_ints_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_big_ints_as_text(v) for v in value]
    return value


_last_second = [None, ""]
# ".000Z" ... ".999Z" (and ".1000Z", which a float rounding just below the next second gives).
_MILLIS = tuple(f".{ms:03d}Z" for ms in range(1001))


def _timestamp(created: float) -> str:
    """ISO 8601 UTC with milliseconds; the seconds part is formatted once per second."""
    second = int(created)
    if _last_second[0] != second:
        _last_second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    ms = int((created - second) * 1000)
    return _last_second[1] + (_MILLIS[ms] if 0 <= ms <= 1000 else f".{ms:03d}Z")


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
        g._get_current_object().started = time.perf_counter()

    @app.after_request
    def _log(response):
        if not log.isEnabledFor(logging.INFO):
            return response
        req, state = request._get_current_object(), g._get_current_object()  # one context look-up each
        started = getattr(state, "started", None)
        latency_ms = (time.perf_counter() - started) * 1000 if started else None
        fields = {
            "request_id": requestid.of(state),
            "method": req.method,
            "route": route_of(req),
            "status": response.status_code,
            "latency_ms": round(latency_ms, 3) if latency_ms is not None else None,
            "request_bytes": request_bytes(req.environ),
        }
        if response.is_streamed:   # logged when the stream ends: completed or aborted, with its counts
            response.response = _LoggedStream(response.response, fields, started, req.environ,
                                               getattr(state, "stream_rows", None))
            return response
        fields["response_bytes"] = response.calculate_content_length()
        _emit(fields)
        return response


def stream_rows(count) -> None:
    """Name the function that counts the rows of this request's streamed answer (its access line says
    how many were sent)."""
    g._get_current_object().stream_rows = count


class _LoggedStream:
    """A streamed body that writes its access line when it ends: ``stream`` "completed" when the
    last byte went out, "aborted" when the stream stopped before (the client left, the write
    deadline passed, the worker stopped), with ``response_bytes`` (body bytes produced),
    ``sent_bytes`` (bytes the socket took, under riskservice's gunicorn worker) and ``rows``."""

    def __init__(self, inner, fields: dict, started, environ, rows):
        self._inner, self._fields, self._started = inner, fields, started
        self._environ, self._rows = environ, rows
        self.bytes = 0
        self.done = self.logged = False

    def __iter__(self):
        for chunk in self._inner:
            self.bytes += len(chunk)
            yield chunk
        self.done = True

    def close(self):
        try:
            close = getattr(self._inner, "close", None)
            if close is not None:
                close()
        finally:
            if not self.logged:
                self.logged = True
                self._log()

    def _log(self):
        aborted = self._environ.get("riskservice.aborted")
        aborted = (not self.done) if aborted is None else aborted
        fields = dict(self._fields, response_bytes=self.bytes, stream="aborted" if aborted else "completed")
        if self._started is not None:
            fields["latency_ms"] = round((time.perf_counter() - self._started) * 1000, 3)
        gate = self._environ.get("riskservice.write_gate")
        if gate is not None:
            fields["sent_bytes"] = gate.sent
        if self._rows is not None:
            try:
                fields["rows"] = int(self._rows())
            except Exception:  # noqa: BLE001 - a count that failed never costs the log line
                pass
        _emit(fields)


def request_bytes(environ) -> int | None:
    """``request.content_length or 0`` read straight from the environ (werkzeug goes through its
    headers view for each of the two headers): 0 for a chunked body or a missing length."""
    n = get_content_length(environ.get("CONTENT_LENGTH"), environ.get("HTTP_TRANSFER_ENCODING")) or 0
    return n if n < (1 << 63) else None   # a Content-Length no body can have: not a number worth logging


def _emit(access: dict) -> None:
    """``log.info("access", extra={"access": access})``, the same line at less cost.

    With the service's own logging set-up (configure_logging: one JSON handler on stdout, no
    filters, nothing else listening) the line is formatted and written directly, as that
    handler would; a LogRecord and its trip through the logging module cost more than the rest
    of the request's bookkeeping. Any other set-up (a handler added by a host application or a
    test, a filter, another formatter) gets a real record, without the stack walk that looks up
    the caller's file and line (nothing prints them)."""
    handler = _only_handler()
    if handler is not None:
        line = _access_line(time.time(), logging.getLevelName(logging.INFO), log.name, access)
        handler.acquire()
        try:
            handler.stream.write(line + handler.terminator)
            handler.flush()
            return
        except Exception:  # as StreamHandler.emit: report it through the handler, never raise
            handler.handleError(_record(access))
            return
        finally:
            handler.release()
    log.handle(_record(access))


def _record(access: dict) -> logging.LogRecord:
    return log.makeRecord(log.name, logging.INFO, __file__, 0, "access", (), None, "_log", {"access": access})


def _only_handler():
    """The stdout handler of configure_logging when an access record would reach it and nothing
    else, unfiltered and formatted by JsonFormatter; None otherwise."""
    if log.handlers or log.filters or not log.propagate:
        return None
    parent = log.parent
    if parent is None or parent.filters or len(parent.handlers) != 1:
        return None
    handler = parent.handlers[0]
    if (not getattr(handler, "_riskservice", False) or handler.filters or handler.level > logging.INFO
            or type(handler.formatter) is not JsonFormatter):
        return None
    above = parent
    while above.propagate and above.parent is not None:
        above = above.parent
        if above.handlers:
            return None
    return handler
