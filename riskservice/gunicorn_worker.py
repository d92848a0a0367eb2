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

import contextvars
import errno
import logging
import os
import selectors
import ssl
import sys
import threading
import time
from functools import partial

from gunicorn import http, util
from gunicorn.http import wsgi
from gunicorn.workers.gthread import TConn, ThreadWorker
from gunicorn.workers.sync import SyncWorker

from riskservice import framing_errors
from riskservice.api.bodydeadline import _monitor, shut_reading
from riskservice.writegate import WriteGate, WritePolicy

HEADER_TIMEOUT = float(os.environ.get("GUNICORN_HEADER_TIMEOUT", "10"))
FIRST_BYTE_TIMEOUT = float(os.environ.get("GUNICORN_FIRST_BYTE_TIMEOUT", "5"))
MAX_PIPELINED = int(os.environ.get("GUNICORN_MAX_PIPELINED", "16"))
CLOSE_LINGER = 0.5   # seconds a closing connection waits for the client's unread request bytes
_log = logging.getLogger("riskservice.worker")
_current = threading.local()


MAX_CHUNK = 1 << 31   # bytes: no body this service accepts has a chunk this large


def _strict_chunks() -> None:
    """Two refusals gunicorn's chunked reader does not make at once (issue 22, finding 10): a bare LF
    ending a chunk-size line (it waited for a CRLF that never came, 408 after 5 s) and a chunk size
    beyond any body the service accepts (``ffff...``: it waited for the bytes). Both are
    InvalidChunkSize now, answered 400 by riskservice/api/bodydeadline.py."""
    from gunicorn.http.body import ChunkedReader
    from gunicorn.http.errors import InvalidChunkSize
    if getattr(ChunkedReader, "_riskservice_strict", False):
        return
    read_into, parse_chunk_size = ChunkedReader.read_into, ChunkedReader.parse_chunk_size

    def strict_read_into(self, unreader, buf):
        read_into(self, unreader, buf)
        if b"\n" in buf and b"\r\n" not in buf and not getattr(self, "_in_trailers", False):
            raise InvalidChunkSize(b"bare LF ends a chunk-size line")

    def strict_parse_chunk_size(self, unreader, data=None):
        size, rest = parse_chunk_size(self, unreader, data)
        if size > MAX_CHUNK:
            raise InvalidChunkSize(b"chunk larger than any accepted body")
        return size, rest

    def parse_trailers(self, unreader, data, _original=ChunkedReader.parse_trailers):
        self._in_trailers = True   # trailer lines are checked for bare LFs by gunicorn itself
        try:
            return _original(self, unreader, data)
        finally:
            self._in_trailers = False

    ChunkedReader.read_into = strict_read_into
    ChunkedReader.parse_chunk_size = strict_parse_chunk_size
    ChunkedReader.parse_trailers = parse_trailers
    ChunkedReader._riskservice_strict = True


_strict_chunks()


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
    """gunicorn's gthread worker that no client can hold a thread with for long.

    - a new connection waits in the event loop, not in a thread, until its first byte
      (``GUNICORN_FIRST_BYTE_TIMEOUT``, 5 s, then it is closed): idle connections cost a
      descriptor, never a thread (gunicorn gives each a thread for 5 s);
    - the request line and headers must arrive within ``HEADER_TIMEOUT``;
    - every response is written through a :class:`~riskservice.writegate.WriteGate`: a thread
      waits at most ``GUNICORN_WRITE_STALL`` for a client to take bytes; a client that does not
      read is parked in the event loop with the unsent bytes, resumed when it reads, and
      disconnected at the write deadline (``GUNICORN_WRITE_TIMEOUT`` without progress, or below
      ``GUNICORN_WRITE_MIN_RATE``);
    - at most ``GUNICORN_MAX_PIPELINED`` requests answered in a row while the next one is already
      waiting unread (pipelining), then the connection is closed;
    - a connection is closed in the thread that finished it, with a short linger, never in the
      event loop (gunicorn's graceful close waits up to 2 s there, stalling every connection).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.write_policy = WritePolicy.from_env()
        self.parked: list = []

    # ------------------------------------------------------------------ event loop side
    def accept(self, listener):
        """Accept, then wait for the first byte in the poller (no thread until data arrives)."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = _Conn(self.cfg, client_sock, client_addr, listener.getsockname())
        conn.timeout = time.monotonic() + FIRST_BYTE_TIMEOUT
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def finish_request(self, conn, fs):
        result = fs.result() if not fs.cancelled() and fs.exception() is None else False
        if isinstance(result, _Exchange):
            self.parked.append(result)
            try:
                self.poller.register(conn.sock, selectors.EVENT_WRITE, partial(self._writable, result))
            except (OSError, ValueError, KeyError):
                self.parked.remove(result)
                self._run(self._abort, result)
            return
        return super().finish_request(conn, _Result(result))

    def _writable(self, exchange, _sock):
        self._unpark(exchange)
        self._run(self._resume, exchange)

    def _unpark(self, exchange) -> None:
        self.parked.remove(exchange)
        try:
            self.poller.unregister(exchange.conn.sock)
        except (OSError, ValueError, KeyError):
            pass

    def _run(self, job, exchange):
        fs = self.tpool.submit(job, exchange)
        fs.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, exchange.conn, fut))

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for exchange in [x for x in self.parked if now > x.gate.deadline()]:
            self._unpark(exchange)
            self._run(self._abort, exchange)

    # ------------------------------------------------------------------ thread side
    def handle(self, conn):
        watch = _HeaderDeadline(conn.sock.fileno(), HEADER_TIMEOUT)
        _current.watch = watch
        _monitor.add(watch)
        try:
            result = self._handle(conn)
        finally:
            watch.finish()
            _monitor.discard(watch)
            _current.watch = None
        if result is False:
            conn.close_here()
        return result

    def _handle(self, conn):
        req = None
        try:
            conn.sock.setblocking(True)
            conn.init()
            if conn.is_http2:
                return self.handle_http2(conn)
            req = next(conn.parser)
            if not req:
                return False
            result = self.handle_request(req, conn)
            if isinstance(result, _Exchange):
                return result
            return self._keepalive_after(conn, result)
        except (http.errors.NoMoreData, StopIteration):
            pass
        except ssl.SSLError as e:
            if e.args[0] != ssl.SSL_ERROR_EOF:
                self.handle_error(req, conn.sock, conn.client, e)
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN, None):
                self.log.warning("socket error while handling a request: %s", errno.errorcode.get(e.errno, e.errno))
        except Exception as e:
            self.handle_error(req, conn.sock, conn.client, e)
        return False

    def handle_request(self, req, conn):
        """gunicorn's handle_request, with the WriteGate in place of the socket and the response
        iterated step by step (an exchange can be parked between two steps)."""
        self.cfg.pre_request(self, req)
        gate = WriteGate(conn.sock, self.write_policy)
        resp, environ = wsgi.create(req, gate, conn.client, conn.server, self.cfg)
        environ["wsgi.multithread"] = True
        environ["riskservice.write_gate"] = gate
        self.nr += 1
        if self.nr >= self.max_requests:
            if self.alive:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            resp.force_close()
        if not self.alive or not self.cfg.keepalive or len(self.keepalived_conns) >= self.max_keepalived:
            resp.force_close()
        conn.pipelined = conn.pipelined + 1 if conn.parser.unreader.buf.getvalue() else 0
        if conn.pipelined >= MAX_PIPELINED:
            resp.force_close()   # answered this many while the next was already waiting: enough
        exchange = _Exchange(self, conn, req, resp, environ, gate, contextvars.copy_context())
        exchange.respiter = exchange.context.run(self.wsgi, environ, resp.start_response)
        # An iterable (a file wrapper, a list), not always an iterator: iterate it, close the original.
        exchange.iterator = exchange.context.run(iter, exchange.respiter)
        return exchange.pump()

    def _resume(self, exchange):
        """A parked exchange whose client can take bytes again (in a thread)."""
        try:
            result = exchange.pump(resumed=True)
        except OSError:
            exchange.end(aborted=True)
            result = False
        except Exception:
            self.log.error("response failed while streaming (%s)", _where())
            exchange.end(aborted=True)
            result = False
        if result is True:
            result = self._keepalive_after(exchange.conn, True)
        if result is False:
            exchange.conn.close_here()
        return result

    def _abort(self, exchange):
        """A parked exchange past its write deadline: stop the response, close the connection."""
        gate = exchange.gate
        _log.info("response cut at the write deadline", extra={"access": {
            "event": "write_deadline", "sent_bytes": gate.sent, "held_s": round(gate.waited, 3),
            "since_progress_s": round(time.monotonic() - gate.progress_at, 3)}})
        exchange.end(aborted=True)
        exchange.conn.close_here(linger=0)
        return False


class _Result:
    """A finished future's result for gunicorn's finish_request."""

    def __init__(self, value):
        self._value = value

    def cancelled(self):
        return False

    def result(self):
        return self._value


class _Conn(TConn):
    """gunicorn's connection, closed by the thread that finished it (with a short linger)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.pipelined = 0
        self.closed = False

    def close_here(self, linger: float = CLOSE_LINGER) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.sock.setblocking(True)
        except OSError:
            pass
        if linger > 0:
            util.close_graceful(self.sock, timeout=linger)
        else:
            util.close(self.sock)

    def close(self, graceful=False):
        if not self.closed:
            self.closed = True
            util.close(self.sock)


class _Exchange:
    """One request and its response being written: what a parked connection carries."""

    def __init__(self, worker, conn, req, resp, environ, gate, context):
        self.worker, self.conn, self.req, self.resp = worker, conn, req, resp
        self.environ, self.gate, self.context = environ, gate, context
        self.respiter = self.iterator = None
        self.exhausted = False
        self.closed_response = False
        self.ended = False

    def pump(self, resumed: bool = False):
        """Write the response until it ends (True: keep-alive, False: close) or the client stalls
        (self: park me). A resumed exchange first sends what was left over."""
        resp, gate = self.resp, self.gate
        try:
            if resumed and not gate.flush():
                return self
            while True:
                if gate.pending:
                    return self
                if self.closed_response:
                    break
                if self.exhausted:
                    self.closed_response = True
                    resp.close()
                    continue
                try:
                    item = self.context.run(next, self.iterator)
                except StopIteration:
                    self.exhausted = True
                    continue
                resp.write(item)
        except (Exception, SystemExit):
            if not resp.headers_sent:
                self.end(aborted=True)
                raise
            if not isinstance(sys.exc_info()[1], OSError):
                self.worker.log.error("response failed while streaming (%s)", _where())
            self.end(aborted=True)
            return False
        self.end(aborted=False)
        return not resp.should_close()

    def end(self, aborted: bool) -> None:
        """Close the app's iterator (in the request's context) and run the post_request hook."""
        if self.ended:
            return
        self.ended = True
        self.environ["riskservice.aborted"] = aborted
        try:
            if hasattr(self.respiter, "close"):
                self.context.run(self.respiter.close)
        except Exception:
            self.worker.log.error("closing a response failed (%s)", _where())
        try:
            self.worker.cfg.post_request(self.worker, self.req, self.environ, self.resp)
        except Exception:
            self.worker.log.error("post_request hook failed (%s)", _where())


def _where() -> str:
    """The code location of the exception being handled: its type and frames, never its message."""
    import traceback
    exc = sys.exc_info()[1]
    frames = traceback.extract_tb(exc.__traceback__)[-4:] if exc else []
    return f"{type(exc).__name__} at " + " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
                                                     for f in reversed(frames))


def headers_read(worker, req) -> None:
    """gunicorn ``pre_request`` hook: the headers are in, stop their deadline."""
    watch = getattr(_current, "watch", None)
    if watch is not None:
        watch.finish()
