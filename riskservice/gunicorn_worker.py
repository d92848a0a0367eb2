"""gunicorn's gthread worker with a deadline for reading the request line and headers.

Why: gunicorn reads headers with blocking, timeout-free reads, so a client that sends them one
byte at a time ("slowloris") holds a worker thread for as long as it likes, before the app (and
its body deadline, riskservice/api/bodydeadline.py) ever runs. This worker gives every request
``GUNICORN_HEADER_TIMEOUT`` seconds (default 10) from the moment its thread takes the connection
to the end of the headers; when they pass, the reading half of the socket is shut down, the
parser sees the end of the stream and gunicorn closes the connection. The ``pre_request`` hook
(riskservice.gunicorn_conf) marks the headers as read. The same monitor thread as the body
deadline does the watching.
"""
from __future__ import annotations

import os
import threading
import time

from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from riskservice import framing_errors
from riskservice.api.bodydeadline import _monitor, shut_reading

HEADER_TIMEOUT = float(os.environ.get("GUNICORN_HEADER_TIMEOUT", "10"))
_current = threading.local()


class _HeaderDeadline:
    def __init__(self, fd: int, seconds: float):
        self._fd = fd                    # the descriptor stays the same when TLS wraps the socket
        self._ends = time.monotonic() + seconds
        self._done = False
        self._lock = threading.Lock()

    def overdue(self, now: float) -> bool:
        return not self._done and now > self._ends

    def cut(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            shut_reading(self._fd)

    def finish(self) -> None:
        with self._lock:
            self._done = True


class ProblemErrors:
    """Mixin for gunicorn workers: what gunicorn would answer with its HTML error page (a request the
    HTTP parser refused, a fault that escaped the app) gets problem+json and a log line without any
    request text (riskservice/framing_errors.py)."""

    def handle_error(self, req, client, addr, exc):
        framing_errors.send(client, exc)


class ProblemSyncWorker(ProblemErrors, SyncWorker):
    """gunicorn's sync worker (GUNICORN_WORKER_CLASS=sync) with problem+json framing errors."""


class DeadlineThreadWorker(ProblemErrors, ThreadWorker):
    """ThreadWorker whose threads stop waiting for headers after HEADER_TIMEOUT seconds."""

    def handle(self, conn):
        watch = _HeaderDeadline(conn.sock.fileno(), HEADER_TIMEOUT)
        _current.watch = watch
        _monitor.add(watch)
        try:
            return super().handle(conn)
        finally:
            watch.finish()
            _monitor.discard(watch)
            _current.watch = None


def headers_read(worker, req) -> None:
    """gunicorn ``pre_request`` hook: the headers are in, stop their deadline."""
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.finish()
