"""`make serve-prod` / the Dockerfile's command: nginx with the shipped configuration in front of
gunicorn, both started by one command and both stopped by one signal."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from riskservice.deploy import serve
from tests.proxyserver import require_nginx
from tests.realserver import free_port


def test_the_shipped_configuration_is_valid_nginx(tmp_path):
    require_nginx()
    conf = serve.prepare(tmp_path, "127.0.0.1:18080", "127.0.0.1:18081")
    done = subprocess.run([serve.nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(conf), "-e", "stderr"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    for setting in ("proxy_request_buffering on", "proxy_buffering on", "client_header_timeout",
                    "client_body_timeout", "send_timeout", "limit_conn perclient", "reset_timedout_connection on"):
        assert setting in text


@pytest.mark.slow
def test_serve_prod_starts_nginx_in_front_of_gunicorn_and_stops_both(tmp_path):
    require_nginx()
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "UPSTREAM_PORT": str(free_port()),
           "WEB_CONCURRENCY": "1", "RISKSERVICE_MODEL": "off", "NGINX_RUNTIME_DIR": str(tmp_path / "nginx")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with (tmp_path / "out.log").open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "riskservice.deploy.serve"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            serve.wait_http(f"http://127.0.0.1:{port}/healthz", proc, seconds=60)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                assert r.status == 200 and r.headers["Server"] == "nginx"   # answered through nginx
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert not (tmp_path / "nginx" / "nginx.pid").exists()   # nginx stopped and removed its pid file
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
