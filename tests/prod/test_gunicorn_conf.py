"""The gunicorn config does what the issue asks (read in a subprocess: importing it sets
PROMETHEUS_MULTIPROC_DIR, which must not leak into this test process)."""
import json
import os
import subprocess
import sys

PROBE = """
import json, os, riskservice.gunicorn_conf as c
print(json.dumps({k: getattr(c, k) for k in ("bind", "workers", "worker_class", "preload_app", "max_requests",
      "max_requests_jitter", "timeout", "accesslog", "control_socket_disable", "threads")}
      | {"stdout": c.logconfig_dict["handlers"]["stdout"]["stream"], "multiproc": os.environ["PROMETHEUS_MULTIPROC_DIR"],
         "hooks": [h for h in ("child_exit", "on_exit", "pre_request") if callable(getattr(c, h, None))]}))
c.on_exit(None)
"""


def conf(**env):
    base = {k: v for k, v in os.environ.items() if k not in ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**base, **env}, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def test_defaults_suit_a_cpu_bound_service():
    c = conf()
    assert c["workers"] == os.cpu_count() and c["worker_class"] == "riskservice.gunicorn_worker.DeadlineThreadWorker" and c["preload_app"] is True
    assert c["threads"] == 4  # a slow client holds one thread, not a worker (docs/security.md)
    assert c["max_requests"] == 10000 and c["max_requests_jitter"] == 1000
    assert c["bind"].startswith("127.0.0.1:") and c["accesslog"] is None and c["stdout"] == "ext://sys.stdout"
    assert c["hooks"] == ["child_exit", "on_exit", "pre_request"] and "riskservice-metrics-" in c["multiproc"]
    assert not os.path.exists(c["multiproc"]), "on_exit removes the temporary metrics directory"


def test_web_concurrency_sets_the_workers():
    assert conf(WEB_CONCURRENCY="3")["workers"] == 3


def test_sync_on_request_really_is_sync():
    """gunicorn turns sync with threads > 1 into gthread; asking for sync gives one thread."""
    c = conf(GUNICORN_WORKER_CLASS="sync")
    assert c["worker_class"] == "riskservice.gunicorn_worker.ProblemSyncWorker" and c["threads"] == 1
