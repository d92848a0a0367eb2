"""Small local HTTP servers for outbound-call tests: a normal one, a slow one, a big one."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """``with LocalServer(mode) as s: s.url("/x")``; ``s.requests`` records (path, headers).

    Modes: ``ok`` (200 JSON), ``slow`` (headers then one body byte every ``drip`` s, forever),
    ``slowheaders`` (one status-line byte every ``drip`` s), ``big`` (``size`` bytes),
    ``redirect`` (302 to /elsewhere).
    """

    def __init__(self, mode: str = "ok", drip: float = 0.5, size: int = 0, body: bytes = b'{"resourceType":"Patient"}'):
        self.mode, self.drip, self.size, self.body = mode, drip, size, body
        self.requests: list[tuple[str, dict]] = []
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                outer.requests.append((self.path, dict(self.headers)))
                try:
                    outer._answer(self)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def _answer(self, h):
        if self.mode == "slowheaders":
            for ch in b"HTTP/1.1 200 OK\r\n":
                if self._stop.wait(self.drip):
                    return
                h.wfile.write(bytes([ch]))
                h.wfile.flush()
            return
        if self.mode == "redirect":
            h.send_response(302)
            h.send_header("Location", "/elsewhere")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        body = b"x" * self.size if self.mode == "big" else self.body
        h.send_response(200)
        h.send_header("Content-Type", "application/fhir+json")
        if self.mode == "slow":
            h.send_header("Content-Length", "100000")
            h.end_headers()
            while not self._stop.wait(self.drip):
                h.wfile.write(b" ")
                h.wfile.flush()
            return
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        time.sleep(0)
