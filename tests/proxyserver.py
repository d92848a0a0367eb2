"""The shipped deployment for tests and benchmarks: real gunicorn (tests/realserver.py) behind
nginx with riskservice/deploy/nginx.conf, both on free loopback ports, in temporary directories,
stopped at the end."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from riskservice.deploy import serve
from tests.realserver import RealServer, free_port, stop_process


def require_nginx() -> None:
    """Skip without nginx locally; fail under CI (.ci/run installs it)."""
    if serve.nginx_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed (apt-get install nginx)")


class ProxiedServer:
    """``with ProxiedServer(log_path, **env) as s``: ``s.base``/``s.host``/``s.port`` are nginx's,
    ``s.upstream`` the RealServer behind it (``log_text()`` has gunicorn's and nginx's output)."""

    def __init__(self, log_path: Path | None = None, batch_max_body: str = "256m", upstream: RealServer | None = None,
                 **env: str):
        """A new gunicorn (``log_path``, ``env``), or nginx alone in front of a running ``upstream``."""
        self._own_upstream = upstream is None
        self.upstream = RealServer(log_path, **env) if upstream is None else upstream
        self.host, self.port = "127.0.0.1", free_port()
        self.batch_max_body = batch_max_body
        self._dir = None
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        if self._own_upstream:
            self.upstream.__enter__()
        try:
            self._dir = tempfile.TemporaryDirectory(prefix="riskservice-nginx-")
            runtime = Path(self._dir.name)
            conf = serve.prepare(runtime, f"{self.host}:{self.port}", f"127.0.0.1:{self.upstream.port}",
                                 self.batch_max_body)
            self._log = (runtime / "nginx.log").open("wb")
            self.proc = serve.start_nginx(runtime, conf, stdout=self._log, stderr=subprocess.STDOUT)
            serve.wait_http(self.base + "/healthz", self.proc, seconds=20)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        stop_process(self.proc, 10)
        if self._dir:
            self._log.close()
            self._nginx_log = Path(self._dir.name, "nginx.log").read_text(errors="replace")
            self._dir.cleanup()
            self._dir = None
        if self._own_upstream:
            self.upstream.__exit__()

    def nginx_log(self) -> str:
        if self._dir:
            return Path(self._dir.name, "nginx.log").read_text(errors="replace")
        return getattr(self, "_nginx_log", "")

    def log_text(self) -> str:
        return self.upstream.log_text() + self.nginx_log()
