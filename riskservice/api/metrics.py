"""Prometheus metrics at GET /metrics: requests and latency per route template and status,
batch rows scored, and which knowledge and model are loaded.

Under gunicorn each worker is a process; ``riskservice.gunicorn_conf`` sets
``PROMETHEUS_MULTIPROC_DIR`` before the app is imported, so the metrics are written to
shared files and /metrics adds up every worker (prometheus_client multiprocess mode).
"""
from __future__ import annotations

import collections
import errno
import logging
import os
import time

from flask import Blueprint, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from riskservice.api.accesslog import route_of

bp = Blueprint("metrics", __name__)
disable_created_metrics()  # *_created series double the output and nobody scrapes them

REQUESTS = Counter("riskservice_http_requests", "HTTP requests by method, route template and status",
                   ["method", "route", "status"])
LATENCY = Histogram("riskservice_http_request_duration_seconds",
                    "Time to produce the response (streamed bodies: until the first byte)",
                    ["method", "route", "status"],
                    buckets=(.001, .0025, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
BATCH_ROWS = Counter("riskservice_batch_rows_scored", "Rows scored by POST /v1/score/batch (incl. rows with errors)")
INFO = Gauge("riskservice_build_info", "1 for the loaded knowledge and model (model_version 'off' when disabled)",
             ["service_version", "ruleset_version", "model_id", "model_version"], multiprocess_mode="max")


EVENTS = Counter("riskservice_ehr_events", "EHR adapter events: FHIR scores, CDS calls, no-card reasons, "
                 "feedback outcomes, JWT failures", ["event"])


class EventCounter(collections.Counter):
    """A collections.Counter whose increments are also Prometheus counts (label ``event``);
    the EHR blueprint counts with ``events[name] += 1``. Event names are a small fixed set."""

    def __setitem__(self, key, value):
        delta = value - self.get(key, 0)
        if delta > 0:
            EVENTS.labels(str(key)).inc(delta)
        super().__setitem__(key, value)


def record_batch_rows(count: int) -> None:
    if count:
        try:
            BATCH_ROWS.inc(count)
        except OSError as exc:
            _metrics_failed(exc)


def set_info(service_version, ruleset_version, model_id, model_version) -> None:
    INFO.labels(service_version, ruleset_version, model_id or "none", model_version or "off").set(1)


def init_app(app):
    @app.after_request
    def _count(response):
        req = request._get_current_object()
        try:
            request_count, latency = _series(req.method, route_of(req), response.status_code)
            request_count.inc()
            started = getattr(g._get_current_object(), "started", None)  # set by accesslog before the view
            if started is not None:
                latency.observe(time.perf_counter() - started)
        except OSError as exc:   # no room for the metric files (riskservice/metricsdir.py): skip, never fail
            _metrics_failed(exc)
        return response


_failures = [0]


def _metrics_failed(exc: OSError) -> None:
    _failures[0] += 1
    if _failures[0] in (1, 100, 10_000):
        logging.getLogger("riskservice.metrics").error(
            "metrics not recorded: the metrics directory has no room (%s); %d so far",
            errno.errorcode.get(exc.errno, exc.errno), _failures[0])


_SERIES: dict = {}


def _series(method: str, route: str, status: int):
    """The request counter and latency histogram of one (method, route, status). ``labels``
    hands back the same child every time but validates and joins its labels on each call; the
    label sets are bounded (route templates, not paths), and so is this memo."""
    key = (method, route, status)
    pair = _SERIES.get(key)
    if pair is None:
        labels = (method, route, str(status))
        pair = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
        if len(_SERIES) < 4096:
            _SERIES[key] = pair
    return pair


@bp.get("/metrics")
def metrics():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    response = Response(generate_latest(registry), mimetype="text/plain")
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response

