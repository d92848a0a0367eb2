"""Start the real service (gunicorn, production config) on a free port; used by tests and bench/."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealServer:
    """``with RealServer(log_path, RISKSERVICE_X="...") as s: s.base, s.proc, s.log_text()``.

    One worker unless ``WEB_CONCURRENCY`` says otherwise; ``unset`` names environment variables
    the server must not inherit from the test run; ``wrapper`` is a command that runs gunicorn's
    (for example in a namespace of its own)."""

    def __init__(self, log_path: Path, unset: tuple = (), wrapper: tuple = (), **env: str):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log_path = Path(log_path)
        self.env = {**os.environ, "HOST": self.host, "PORT": str(self.port), "WEB_CONCURRENCY": "1", **env}
        for name in ("PROMETHEUS_MULTIPROC_DIR", *unset):
            self.env.pop(name, None)
        self.wrapper = list(wrapper)   # a command gunicorn's command line is appended to (e.g. unshare ...)
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self._out = self.log_path.open("wb")
        self.proc = subprocess.Popen([*self.wrapper, str(gunicorn), "-c", "python:riskservice.gunicorn_conf", "riskservice:create_app()"],
                                     env=self.env, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("gunicorn exited:\n" + self.log_text()[-3000:]) from None
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not come up")

    def __exit__(self, *exc):
        stop_process(self.proc, 15)
        self._out.close()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def stop_process(proc, timeout: float) -> None:
    """Stop a server the tests started: SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
