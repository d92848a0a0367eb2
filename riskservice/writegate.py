"""The socket gunicorn's response writes through: a send never blocks a thread for long.

Why: gunicorn writes a response with blocking ``sendall`` and no timeout, so a client that sends a
request and never reads the answer holds a worker thread forever once the kernel buffers are full
(issue 22, finding 1: 16 such clients stopped the service; threads held for over 10 minutes).

:class:`WriteGate` sends without blocking. When the client takes nothing, the thread waits at
most ``stall`` seconds for room (a reading client makes room within milliseconds); past that, or
once this response has spent ``hold`` seconds waiting in threads altogether, the bytes not sent
are kept in :attr:`pending` and the worker (riskservice/gunicorn_worker.py) parks the connection
in its event loop, freeing the thread. The loop resumes the response in a thread when the socket
can take more, and closes the connection when it made no progress for ``timeout`` seconds (the
write deadline) or falls below ``min_rate`` bytes per second overall.
"""
from __future__ import annotations

import os
import select
import socket
import ssl
import time
from dataclasses import dataclass


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class WritePolicy:
    timeout: float = 10.0      # GUNICORN_WRITE_TIMEOUT: no progress this long -> connection closed
    min_rate: float = 4096.0   # GUNICORN_WRITE_MIN_RATE: bytes/s the client must take overall
    stall: float = 0.5         # GUNICORN_WRITE_STALL: longest one wait of a thread for room
    hold: float = 2.0          # GUNICORN_WRITE_HOLD: most waiting per response in threads

    @classmethod
    def from_env(cls) -> WritePolicy:
        return cls(timeout=_env("GUNICORN_WRITE_TIMEOUT", cls.timeout),
                   min_rate=max(_env("GUNICORN_WRITE_MIN_RATE", cls.min_rate), 1.0),
                   stall=_env("GUNICORN_WRITE_STALL", cls.stall),
                   hold=_env("GUNICORN_WRITE_HOLD", cls.hold))


class WriteGate:
    """A stand-in for the connection's socket in gunicorn's Response (``sendall``), everything
    else delegated to the real socket."""

    def __init__(self, sock, policy: WritePolicy):
        self._sock = sock
        self.policy = policy
        self.pending: list[bytes] = []
        self.sent = 0                      # bytes the kernel took (headers included)
        self.waited = 0.0                  # seconds threads spent waiting for room
        self.started = time.monotonic()
        self.progress_at = self.started    # last time the client took bytes
        self._tls = isinstance(sock, ssl.SSLSocket)

    def __getattr__(self, name):
        return getattr(self._sock, name)

    # --------------------------------------------------------------- writing
    def sendall(self, data) -> None:
        if self.pending:                   # parked already: keep the order
            self.pending.append(bytes(data))
            return
        rest = self._send(memoryview(data).cast("B"))
        if rest is not None:
            self.pending.append(bytes(rest))

    def flush(self) -> bool:
        """Send what is pending (in a resumed thread); True when nothing is left."""
        while self.pending:
            rest = self._send(memoryview(self.pending[0]).cast("B"))
            if rest is not None:
                self.pending[0] = bytes(rest)
                return False
            self.pending.pop(0)
        return True

    def _send(self, view):
        """Send ``view``; the part not sent (a memoryview) when the client stalled, else None."""
        if self._tls:   # TLS sockets take no flags: a blocking send bounded by the write deadline
            self._sock.settimeout(self.policy.timeout)
            try:
                self._sock.sendall(view)
            finally:
                self._sock.settimeout(None)
            self._took(len(view))
            return None
        while view:
            try:
                n = self._sock.send(view, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                n = 0
            if n:
                self._took(n)
                view = view[n:]
                continue
            budget = min(self.policy.stall, self.policy.hold - self.waited)
            if budget <= 0:
                return view
            began = time.monotonic()
            _, ready, _ = select.select([], [self._sock], [], budget)
            self.waited += time.monotonic() - began
            if not ready:
                return view
        return None

    def _took(self, n: int) -> None:
        self.sent += n
        self.progress_at = time.monotonic()

    # --------------------------------------------------------------- the deadline
    def deadline(self) -> float:
        """When a parked response is cut: no progress for ``timeout`` seconds, or less than
        ``min_rate`` bytes per second since it began (after a first ``timeout`` of grace)."""
        by_progress = self.progress_at + self.policy.timeout
        by_rate = self.started + self.policy.timeout + self.sent / self.policy.min_rate
        return min(by_progress, by_rate)
