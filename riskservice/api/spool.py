"""Uploads kept while they are scored, within a quota, and what a full disk answers (507).

Why: a batch upload is spooled (memory up to 8 MiB, then a temporary file in TMPDIR) so its rows
can be counted before any is scored. A full TMPDIR made that write fail with an unhandled
``OSError`` (500), and nothing bounded how much disk concurrent uploads took (issue 22, finding 3).

- :class:`QuotaSpool` charges every byte it holds against one per-process budget,
  ``BATCH_SPOOL_QUOTA`` (1 GiB), released when it is closed; past the budget the upload is refused
  with 507 problem+json before more is written. The multipart parser's file parts use it too
  (:func:`file_stream`).
- :func:`is_no_space` recognises ENOSPC/EDQUOT, which the error handlers answer with 507
  Insufficient Storage (riskservice/api/errors.py) instead of a 500.
"""
from __future__ import annotations

import errno
import tempfile
import threading

from werkzeug.exceptions import HTTPException

SPOOL_IN_MEMORY = 8 * 1024 * 1024


class InsufficientStorage(HTTPException):
    code = 507
    description = ("The server has no room to hold this upload now (its disk or its upload quota is "
                   "full); try again later or send a smaller file.")


def is_no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


class _Quota:
    def __init__(self):
        self.used = 0
        self._lock = threading.Lock()

    def take(self, n: int, limit: int) -> bool:
        with self._lock:
            if self.used + n > limit:
                return False
            self.used += n
            return True

    def give(self, n: int) -> None:
        with self._lock:
            self.used -= n


QUOTA = _Quota()


class QuotaSpool(tempfile.SpooledTemporaryFile):
    """A SpooledTemporaryFile whose bytes count against the process's upload budget."""

    def __init__(self, limit: int, max_size: int = SPOOL_IN_MEMORY, **kwargs):
        super().__init__(max_size=max_size, **kwargs)
        self._limit = int(limit)
        self._charged = 0

    def write(self, data):
        end = self.tell() + len(data)
        if end > self._charged:
            if not QUOTA.take(end - self._charged, self._limit):
                raise InsufficientStorage()
            self._charged = end
        try:
            return super().write(data)
        except OSError as exc:
            if is_no_space(exc):
                raise InsufficientStorage() from None
            raise

    def close(self):
        try:
            super().close()
        finally:
            if self._charged:
                QUOTA.give(self._charged)
                self._charged = 0


def file_stream(limit: int):
    """A ``Request._get_file_stream`` for werkzeug's multipart parser: file parts go to a QuotaSpool
    (in memory up to 500 KiB, as werkzeug does, then on disk)."""
    def make(total_content_length, content_type, filename=None, content_length=None):
        return QuotaSpool(limit, max_size=500 * 1024, mode="rb+")
    return make
