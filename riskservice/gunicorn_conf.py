"""gunicorn settings for this CPU-bound service (``-c python:riskservice.gunicorn_conf``).

Workers default to the core count (scoring is CPU work, not I/O); the app is preloaded so
knowledge and model are read and verified once in the master, and a broken model fails
the deploy instead of every worker. Logs go to stdout/stderr.
"""
import multiprocessing
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
preload_app = True
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
keepalive = 5
accesslog = None  # the app writes its own structured, PHI-free access log
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
