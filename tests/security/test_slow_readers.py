"""Issue 22, findings 1 and 7, acceptance: 64 slow readers and 64 idle connections, through the shipped
proxy and against bare gunicorn. The same script as the full 60 s run recorded in docs/security.md
(bench/slow_readers.py), with a shorter hold, the model off and a 4 s write deadline, and the same
bounds: through nginx every probe answered and p99 <= 1 s; bare gunicorn every probe within 10 s
and no worker thread waiting on a client longer than the write deadline."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.proxyserver import require_nginx

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_slow_readers_and_idle_connections_do_not_deny_service():
    require_nginx()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "slow_readers.py"), "--target", "both", "--hold", "6",
                          "--write-timeout", "4", "--model", "off"],
                         capture_output=True, text=True, timeout=240, cwd=ROOT)
    results = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["target"] for r in results] == ["proxy", "bare"], out.stdout + out.stderr[-3000:]
    for r in results:
        assert not r["problems"], r
        assert r["probes"] >= 4, r
    bare = results[1]
    assert bare["cut_at_write_deadline"] >= 1, bare   # the non-reading batches were cut, not left hanging


@pytest.mark.slow
def test_pipelined_requests_are_capped_per_connection(tmp_path):
    """200 pipelined requests on one connection: 16 answers (GUNICORN_MAX_PIPELINED), the last one
    with Connection: close, then the connection ends; the rest must be sent again."""
    import socket

    from tests.realserver import RealServer
    with RealServer(tmp_path / "server.log", RISKSERVICE_MODEL="off") as server:
        with socket.create_connection((server.host, server.port), timeout=20) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n" * 200)
            data = b""
            while chunk := sock.recv(1 << 16):
                data += chunk
    answers = data.count(b"HTTP/1.1 200")
    assert answers == 16, answers
    assert data.rsplit(b"HTTP/1.1 200", 1)[1].lower().count(b"connection: close") == 1
