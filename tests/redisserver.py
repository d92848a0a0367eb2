"""A throw-away redis-server (Debian package ``redis-server``) on a free loopback port, for tests:
no persistence, its files in a temporary directory, stopped at the end."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from tests.realserver import free_port, stop_process


def available() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    def __init__(self):
        self.port = free_port()
        self.proc = None
        self._dir = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="riskservice-redis-")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir.name, "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("redis-server did not come up")

    def __exit__(self, *exc):
        stop_process(self.proc, 10)
        if self._dir:
            self._dir.cleanup()
