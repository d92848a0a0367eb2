"""The Flask class of the service: Flask with its per-request "is this a coroutine?" answer kept.

Flask asks ``inspect.iscoroutinefunction`` about the view and every request hook on each
request (about ten times per ``POST /v1/score``); the answer for a function never changes,
so it is kept per function. Async views and hooks still run through ``async_to_sync``.
"""
from __future__ import annotations

from flask import Flask, Request


class ServiceRequest(Request):
    """Multipart file parts are spooled within the upload quota (riskservice/api/spool.py)."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        from flask import current_app

        from riskservice.api.spool import file_stream
        return file_stream(int(current_app.config["BATCH_SPOOL_QUOTA"]))(
            total_content_length, content_type, filename, content_length)


class ServiceFlask(Flask):
    request_class = ServiceRequest

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync: dict = {}

    def ensure_sync(self, func):
        try:
            return self._sync[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)
        sync = super().ensure_sync(func)
        if len(self._sync) < 4096:  # hooks and views are few; never let this grow
            self._sync[func] = sync
        return sync
