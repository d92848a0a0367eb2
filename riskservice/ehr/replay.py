"""Where the CDS client JWT ids (``jti``) already used are remembered, so a token is accepted once.

Why shared: gunicorn runs several worker processes and a deployment several instances; a
per-process set let the same token through once per worker (issue 22, finding 5). Two stores,
one interface (:meth:`first_use`):

- :class:`SqliteReplayStore` (default): one SQLite file (``REPLAY_DB``, default
  ``<instance folder>/cds-jti.sqlite3``) in WAL mode, shared by every worker of the host. The
  insert is one statement, so two workers racing on the same ``jti`` cannot both win.
- :class:`RedisReplayStore` when ``REDIS_URL`` is set: ``SET key 1 NX EXAT <expiry>``, shared
  by every instance that uses that Redis; Redis drops the key when it expires.

A store that cannot answer (Redis down, disk full) makes :meth:`first_use` raise, and the
caller refuses the token (fail closed). Keys are ``<iss>|<jti>``: no token, no patient data.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

log = logging.getLogger("riskservice.ehr.replay")


class SqliteReplayStore:
    """Remembered ids in an SQLite file; one connection per thread and per process (never across
    a fork)."""

    PURGE_EVERY = 256   # inserts between two deletions of expired rows

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._inserts = 0
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=True)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def first_use(self, key: str, expires_at: float, now: float | None = None) -> bool:
        """True the first time ``key`` is seen before ``expires_at``; False for a replay."""
        now = time.time() if now is None else now
        db = self._connect()
        # A new key is inserted; an expired one is taken over; a live one changes nothing.
        cur = db.execute("INSERT INTO jti (key, expires) VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                         "SET expires = excluded.expires WHERE jti.expires < ?", (key, expires_at, now))
        fresh = cur.rowcount == 1
        self._inserts += 1
        if self._inserts % self.PURGE_EVERY == 0:
            db.execute("DELETE FROM jti WHERE expires < ?", (now,))
        return fresh


class RedisReplayStore:
    """Remembered ids in Redis (``REDIS_URL``), shared by every instance that uses it."""

    PREFIX = "riskservice:cds-jti:"

    def __init__(self, url: str, timeout: float = 2.0):
        import redis
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)

    def first_use(self, key: str, expires_at: float, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        if expires_at <= now:
            return True   # nothing to remember: the token is refused for its expiry anyway
        return bool(self._redis.set(self.PREFIX + key, b"1", nx=True, exat=int(expires_at) + 1))


_stores: dict = {}
_lock = threading.Lock()


def store_for(config, instance_path: str):
    """The replay store this configuration names, one per process and configuration."""
    url = config.get("REDIS_URL")
    where = ("redis", url) if url else ("sqlite", config.get("REPLAY_DB")
                                        or os.path.join(instance_path, "cds-jti.sqlite3"))
    with _lock:
        store = _stores.get(where)
        if store is None:
            store = _stores[where] = RedisReplayStore(url) if url else SqliteReplayStore(where[1])
            log.info("CDS JWT replay store: %s", where[0])
        return store
