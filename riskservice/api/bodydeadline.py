"""A deadline for reading the request body, so a slow client cannot hold a server thread.

Why: gunicorn reads a body with blocking, timeout-free reads. A client that announces
``Content-Length: 1000`` and sends 10 bytes (or dribbles one byte every few seconds) keeps that
thread (with the sync worker: the whole worker, until its 30 s timeout kills it and the client
gets an HTML 500). This WSGI middleware gives every body a budget of
``BODY_READ_SECONDS + bytes_received / BODY_MIN_BYTES_PER_SECOND`` seconds: a fast upload of any
size passes, a dribble is cut off after a few seconds.

How: each body is wrapped in :class:`_TimedInput`. One monitor thread per process looks at the
bodies being read four times a second; when one is overdue it shuts down the reading half of
that connection (``environ["gunicorn.socket"]``), so the blocked read returns at once and the
request ends with a 408 problem+json (the writing half stays open for that answer). Servers that
do not expose their socket get the check between reads only. Headers are not covered (the
server has read them before the app runs): put a buffering reverse proxy in front
(docs/security.md, "Slow clients").
"""
from __future__ import annotations

import os
import socket
import threading
import time

from werkzeug.exceptions import BadRequest, RequestTimeout


def shut_reading(fd: int) -> None:
    """Shut down the reading half of the connection on ``fd`` so a blocked read returns at once
    (through a duplicate descriptor: the server keeps and closes its own). Also used by the
    header deadline in riskservice/gunicorn_worker.py."""
    try:
        dup = socket.socket(fileno=os.dup(fd))
    except OSError:
        return
    try:
        dup.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    finally:
        dup.close()


class BadFraming(BadRequest):
    description = ("The request body's chunked framing could not be read (a chunk size, extension, line end "
                   "or trailer that HTTP/1.1 does not allow).")


def _is_framing_error(exc: BaseException) -> bool:
    """A refusal of gunicorn's HTTP parser while it reads the body (chunk sizes, trailers)."""
    try:
        from gunicorn.http.errors import NoMoreData, ParseException
    except ImportError:   # another server
        return False
    return isinstance(exc, ParseException) and not isinstance(exc, NoMoreData)


class BodyTimeout(RequestTimeout):
    description = ("The request body did not arrive in time; send it in one go "
                   "(the service waits a few seconds plus the time a slow link needs for the size).")


class _TimedInput:
    """wsgi.input with a deadline that grows with the bytes received."""

    def __init__(self, stream, sock, seconds: float, min_rate: float, length: int | None):
        self._stream = stream
        self._sock = sock
        self._seconds = seconds
        self._rate = min_rate
        self._length = length
        self._started = time.monotonic()
        self.received = 0
        self.done = length == 0
        self.expired = False
        self._lock = threading.Lock()

    def overdue(self, now: float) -> bool:
        return not self.done and now - self._started > self._seconds + self.received / self._rate

    def cut(self) -> None:
        """Called by the monitor: shut down reading so the blocked read returns now."""
        with self._lock:
            if self.done or self.expired:
                return
            self.expired = True
            if self._sock is None:
                return
            try:
                fd = self._sock.fileno()
            except (OSError, ValueError):
                return
            shut_reading(fd)

    def finish(self) -> None:
        with self._lock:
            self.done = True

    def _account(self, data: bytes) -> bytes:
        if self.expired or self.overdue(time.monotonic()):
            self.expired = True
            raise BodyTimeout()
        self.received += len(data)
        if not data or (self._length is not None and self.received >= self._length):
            self.finish()
        return data

    def _call(self, fn, *args):
        try:
            data = fn(*args)
        except Exception as exc:
            if self.expired:
                raise BodyTimeout() from None
            if _is_framing_error(exc):   # was a 500 (issue 22, finding 10)
                self.finish()
                raise BadFraming() from None
            raise
        return self._account(data)

    def read(self, size: int = -1) -> bytes:
        return self._call(self._stream.read, size) if size is not None and size >= 0 \
            else self._call(self._stream.read)

    def readline(self, size: int = -1) -> bytes:
        return self._call(self._stream.readline, size) if size is not None and size >= 0 \
            else self._call(self._stream.readline)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")


class _Monitor:
    """One daemon thread per process (started lazily, again after a fork) watching open bodies.

    A fork is noticed by an at-fork hook rather than by comparing ``os.getpid()`` on every add
    (a system call, twice per request with the header deadline)."""

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self._active: set[_TimedInput] = set()
        self._lock = threading.Lock()
        self._pid = None
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """In a new child: no watching thread yet (threads do not survive a fork), and a fresh
        lock in case another thread held this one at the moment of the fork."""
        self._pid = None
        self._lock = threading.Lock()

    def add(self, body: _TimedInput) -> None:
        with self._lock:
            self._active.add(body)
            if self._pid is None:
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="body-deadline", daemon=True).start()

    def discard(self, body: _TimedInput) -> None:
        with self._lock:
            self._active.discard(body)

    def _run(self) -> None:
        pid = os.getpid()
        while self._pid == pid:
            time.sleep(self.interval)
            now = time.monotonic()
            with self._lock:
                late = [b for b in self._active if b.overdue(now)]
            for body in late:
                body.cut()


_monitor = _Monitor()


class BodyDeadline:
    """WSGI middleware; see the module docstring."""

    def __init__(self, app, seconds: float, min_rate: float):
        self.app = app
        self.seconds = float(seconds)
        self.min_rate = max(float(min_rate), 1.0)

    def __call__(self, environ, start_response):
        length = _content_length(environ)
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked and not length:
            return self.app(environ, start_response)
        body = _TimedInput(environ["wsgi.input"], environ.get("gunicorn.socket"), self.seconds,
                           self.min_rate, None if chunked else length)
        environ["wsgi.input"] = body
        gunicorn = "gunicorn.socket" in environ

        def start(status, headers, exc_info=None):
            if gunicorn and not body.done:
                # Answered before the body was read (401, 404, 413, 408): close the connection
                # instead of letting the server drain a body that may never come.
                headers = [h for h in headers if h[0].lower() != "connection"] + [("Connection", "close")]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        _monitor.add(body)
        try:
            return self.app(environ, start)
        finally:
            body.finish()
            _monitor.discard(body)


def _content_length(environ) -> int | None:
    try:
        return max(int(environ.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return None


def init_app(app) -> None:
    app.wsgi_app = BodyDeadline(app.wsgi_app,
                                app.config["BODY_READ_SECONDS"],
                                app.config["BODY_MIN_BYTES_PER_SECOND"])
