"""gunicorn settings for this CPU-bound service (``-c python:riskservice.gunicorn_conf``).

Workers default to the core count (scoring is CPU work, not I/O), each with a few threads
(``gthread``): a slow or stalled client then holds one thread, never a whole worker, and the
worker's heartbeat keeps running, so nobody gets gunicorn's HTML 500 for it. A header deadline
(riskservice/gunicorn_worker.py, ``GUNICORN_HEADER_TIMEOUT``, 10 s) and the app's body-read
deadline (riskservice/api/bodydeadline.py) free that thread within seconds. The app is preloaded so
knowledge and model are read and verified once in the master, and a broken model fails
the deploy instead of every worker. Workers are recycled after ``max_requests`` (with
jitter, so they do not all restart at once) as a guard against leaks; 10,000 rather than 1,000
because a recycle costs a fresh worker's warm-up, which at 1,000 halved the summary throughput
under load (bench/load_bench.py A/B: 512-638 vs 1,182-1,269 req/s) while worker memory stayed
flat. Every log line goes to stdout as JSON.

Metrics: each worker is a process, so prometheus_client runs in multiprocess mode. This
module sets ``PROMETHEUS_MULTIPROC_DIR`` (unless given, a fresh directory in /dev/shm: on its
own path, not in the TMPDIR that uploads fill), checks it has room (riskservice/metricsdir.py:
start-up fails otherwise) before the app is imported, and ``child_exit`` marks a dead worker's
live gauges as gone.
"""
import gc
import logging
import multiprocessing
import os
import shutil
import sys
from pathlib import Path

from gunicorn.glogging import Logger

from riskservice import metricsdir

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
_WORKER = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
# gthread plus a deadline for the request headers (riskservice/gunicorn_worker.py); gthread and sync
# answer requests gunicorn's parser refuses with problem+json. Another class is used as given.
worker_class = {"gthread": "riskservice.gunicorn_worker.DeadlineThreadWorker",
                "sync": "riskservice.gunicorn_worker.ProblemSyncWorker"}.get(_WORKER, _WORKER)
# gunicorn silently turns "sync" with threads > 1 into gthread: one thread unless gthread.
threads = int(os.environ.get("GUNICORN_THREADS", "4" if _WORKER == "gthread" else "1"))
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "1000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Responses go through riskservice/writegate.py (a send never blocks a thread for long); gunicorn's
# sendfile would write a file with a blocking, deadline-free call.
sendfile = False
# The workers' heartbeat files: in memory, not in TMPDIR, which a big upload may fill.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
control_socket_disable = True  # several instances may run on one host (tests, benchmarks)
accesslog = None  # the app writes its own structured, PHI-free access log


class _Logger(Logger):
    """gunicorn's logger without its access log: with logconfig_dict set, gunicorn would build
    the access-log atoms for every request (~2% of a worker) only to drop the line."""

    def access(self, resp, req, environ, request_time):
        return


logger_class = _Logger
loglevel = os.environ.get("LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "riskservice.api.accesslog.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                            "formatter": "json"}},
    "root": {"level": "WARNING", "handlers": []},  # riskservice.* has its own stdout handler
    "loggers": {"gunicorn.error": {"level": loglevel.upper(), "handlers": ["stdout"], "propagate": False},
                "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False}},
}

_OWN_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _OWN_METRICS_DIR:   # its own path: /dev/shm when usable, not the TMPDIR that uploads may fill
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metricsdir.default_dir()
else:
    # A reused directory would add up processes of an earlier run: empty it now, before the
    # preloaded app writes its first value.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    for _stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        _stale.unlink()
metricsdir.check(os.environ["PROMETHEUS_MULTIPROC_DIR"])   # refuse to start rather than crash later
metricsdir.install()


_headers_read = None


def pre_request(worker, req):
    """Stop the request's header deadline. The worker module is imported on the first request
    (after PROMETHEUS_MULTIPROC_DIR is set), not by an import statement on every request."""
    global _headers_read
    if _headers_read is None:
        from riskservice.gunicorn_worker import headers_read as _headers_read
    _headers_read(worker, req)


def child_exit(server, worker):
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def when_ready(server):
    """Freeze the preloaded heap (knowledge, engine, modules) before the workers fork: their
    garbage collections then neither scan it (a full collection of it takes ~17 ms) nor
    write to its pages (copy-on-write)."""
    gc.collect()
    gc.freeze()


def worker_exit(server, worker):
    """A recycled worker (max_requests) or one stopped gracefully leaves without interpreter
    finalization, which took ~100 ms of tearing down modules while its replacement waited
    (measured in bench/load_bench.py). Logs are flushed first; boot failures exit as usual."""
    if worker.booted and not worker.alive:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
