"""Slow readers and idle connections against the service (issue 22, finding 1 and 7, and its acceptance).

    python bench/slow_readers.py --target proxy --hold 60     # through nginx (riskservice/deploy)
    python bench/slow_readers.py --target bare --hold 60      # gunicorn alone
    python bench/slow_readers.py --target both --hold 8 --check   # what CI runs (tests/security/test_slow_readers.py)

Attack, for ``--hold`` seconds: ``--slow`` clients (64) that each send requests whose answers are
far larger than the socket buffers and never read a byte (half post a CSV batch of ``--rows``
rows, half pipeline 200 ``view=full`` requests; their receive buffers are shrunk to 4 KiB), and
``--idle`` clients (64) that open a connection, send nothing, and open a new one whenever the
server closes theirs. Probing starts once every slow reader's answer is under way (the CPU
that computing 64 answers takes is not what is measured). Every attacker has its own loopback address (127.0.0.2, 127.0.0.3, ...), so
a per-address connection limit alone cannot stop them. Then, for ``--hold`` seconds, a probe posts one patient to
``/v1/score`` once a second on a fresh connection from 127.0.0.1 and records its latency.

Bounds (``--check`` exits 1 when one fails): through the proxy, probe p99 <= 1 s and every probe
answered; bare gunicorn, every probe answered within 10 s and no worker thread waited on a
client longer than the write deadline (from the worker's log of each response it cut:
``held_s``). The server runs the production configuration with 2 workers.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.realserver import RealServer  # noqa: E402
from tests.security.corpus import send  # noqa: E402

PATIENT = '{"age":52,"sex":"male","bmi":31.2,"waist":104,"fasting_glucose":104,"fasting_insulin":14,"fasting_insulin_unit":"uU/mL"}'
WRITE_TIMEOUT = 10.0   # the worker's default write deadline (riskservice/writegate.py, GUNICORN_WRITE_TIMEOUT)


def batch_body(rows: int) -> bytes:
    lines = ["patient_id,age,sex,bmi,waist,fasting_glucose,Fasting insulin (uU/mL),Triglycerides (mg/dL),hdl_cholesterol,"
             "medications"]
    lines += [f"P{i},{30 + i % 50},{'male' if i % 2 else 'female'},{22 + i % 15},{80 + i % 40},{90 + i % 30},"
              f"{5 + i % 20},{100 + i % 150},{35 + i % 30},prednisolone" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def request(path: str, body: bytes, ctype: str, host: str, close: bool = False) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n")
    return head.encode() + body


class Attack:
    def __init__(self, host: str, port: int, slow: int, idle: int, rows: int, hold: float):
        self.host, self.port, self.hold = host, port, hold
        self.slow, self.idle = slow, idle
        self.csv = request("/v1/score/batch", batch_body(rows), "text/csv", f"{host}:{port}")
        self.pipelined = request("/v1/score?view=full", PATIENT.encode(), "application/json", f"{host}:{port}") * 200
        self.stop = threading.Event()
        self.answered = threading.Semaphore(0)
        self.socks: list = []
        self.reopened = 0
        self.errors: dict = {}

    def _connect(self, k: int, small_buffer: bool) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if small_buffer:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((f"127.0.{(k + 2) // 250}.{(k + 2) % 250 + 1}", 0))   # its own address per attacker
        s.settimeout(10)
        s.connect((self.host, self.port))
        return s

    def _note(self, exc):
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1

    def slow_reader(self, k: int):
        try:
            s = self._connect(k, small_buffer=True)
            self.socks.append(s)
            payload = self.csv if k % 2 else self.pipelined
            s.settimeout(30)
            s.sendall(payload)
            s.recv(1, socket.MSG_PEEK)   # the answer is under way (nothing is taken from the buffer)
        except OSError as exc:
            self._note(exc)
        finally:
            self.answered.release()
        self.stop.wait()

    def idle_client(self, k: int):
        while not self.stop.is_set():
            try:
                s = self._connect(self.slow + k, small_buffer=False)
            except OSError as exc:
                self._note(exc)
                self.stop.wait(0.2)
                continue
            self.socks.append(s)
            s.settimeout(0.5)
            while not self.stop.is_set():
                try:
                    if s.recv(1) == b"":
                        break   # closed by the server: open another, as the attacker of finding 7 did
                except TimeoutError:
                    continue
                except OSError:
                    break
            s.close()
            if not self.stop.is_set():
                self.reopened += 1

    def run(self, probes: list):
        threads = [threading.Thread(target=self.slow_reader, args=(k,), daemon=True) for k in range(self.slow)]
        threads += [threading.Thread(target=self.idle_client, args=(k,), daemon=True) for k in range(self.idle)]
        for t in threads:
            t.start()
        # Probing starts once every slow reader's answer is under way: what is measured is the
        # cost of clients that hold their answers unread, not the CPU that computing them took.
        began = time.monotonic()
        for _ in range(self.slow):
            self.answered.acquire(timeout=max(0.1, 60 - (time.monotonic() - began)))
        self.setup_s = time.monotonic() - began
        prober = threading.Thread(target=probe_loop, args=(self.host, self.port, self.hold, probes), daemon=True)
        prober.start()
        prober.join()
        self.stop.set()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
        for t in threads:
            t.join(timeout=5)


def probe_loop(host, port, hold, out: list):
    case = {"path": "/v1/score", "body": PATIENT}
    started = time.monotonic()
    while time.monotonic() - started < hold:
        t0 = time.monotonic()
        try:
            a = send(host, port, case, timeout=30)
            out.append((a.seconds, a.status))
        except OSError as exc:
            out.append((time.monotonic() - t0, type(exc).__name__))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))


def held_times(log_text: str) -> list:
    """``held_s`` of every response the worker cut at its write deadline (its JSON log lines)."""
    out = []
    for line in log_text.splitlines():
        if '"write_deadline"' in line:
            try:
                out.append(json.loads(line)["held_s"])
            except (ValueError, KeyError):
                pass
    return out


def percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, math.ceil(q * len(values)) - 1)]


def attack(server, target: str, hold: float, slow: int, idle: int, rows: int, write_timeout: float,
           model: str) -> dict:
    """One attack on ``server`` (host, port, log_text); the figures of :func:`verdict`."""
    log_before = len(server.log_text())
    attack = Attack(server.host, server.port, slow, idle, rows, hold)
    probes: list = []
    t0 = time.monotonic()
    attack.run(probes)
    wall = time.monotonic() - t0
    held = held_times(server.log_text()[log_before:])
    if target == "bare":   # wait for the parked answers that have not met their deadline yet
        waited = time.monotonic()
        while len(held) < slow // 2 and time.monotonic() - waited < write_timeout + 2:
            time.sleep(0.5)
            held = held_times(server.log_text()[log_before:])
    ok = [s for s, st in probes if st == 200]
    return {"target": target, "hold_s": hold, "slow_readers": slow, "idle": idle, "rows": rows,
            "setup_s": round(attack.setup_s, 1), "wall_s": round(wall, 1), "probes": len(probes),
            "probes_ok": len(ok), "probe_failures": sorted({str(st) for _, st in probes if st != 200}),
            "p50_ms": round(percentile(ok, 0.50) * 1000, 1), "p99_ms": round(percentile(ok, 0.99) * 1000, 1),
            "max_ms": round(max(ok) * 1000, 1) if ok else None, "idle_reopened": attack.reopened,
            "write_timeout_s": write_timeout, "model": model, "cut_at_write_deadline": len(held),
            "max_thread_wait_s": round(max(held), 2) if held else 0.0, "attacker_errors": attack.errors,
            "probe_ms": [round(s * 1000) if isinstance(st, int) else str(st) for s, st in probes]}


def measure(targets, hold: float, slow: int, idle: int, rows: int, write_timeout: float = WRITE_TIMEOUT,
            model: str = "on") -> list:
    """Start the production server (2 workers; behind the shipped nginx when the proxy is a target)
    and attack each target in turn: nginx's port, then gunicorn's own."""
    env = {"WEB_CONCURRENCY": "2", "RISKSERVICE_MODEL": model, "GUNICORN_WRITE_TIMEOUT": str(write_timeout)}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if "proxy" in targets:
            from tests.proxyserver import ProxiedServer
            server = ProxiedServer(Path(tmp) / "server.log", **env)
        else:
            server = RealServer(Path(tmp) / "server.log", **env)
        with server:
            for target in targets:
                bare = server.upstream if target == "bare" and "proxy" in targets else server
                results.append(attack(bare, target, hold, slow, idle, rows, write_timeout, model))
    return results


def verdict(r: dict) -> list:
    """The acceptance bounds of issue 22; an empty list when they hold."""
    problems = []
    if r["probes_ok"] != r["probes"] or not r["probes"]:
        problems.append(f"{r['probes'] - r['probes_ok']} of {r['probes']} probes failed: {r['probe_failures']}")
    if r["target"] == "proxy" and not r["p99_ms"] <= 1000:
        problems.append(f"probe p99 {r['p99_ms']} ms > 1000 ms through the proxy")
    if r["target"] == "bare":
        if not (r["max_ms"] or 0) <= 10_000:
            problems.append(f"slowest probe {r['max_ms']} ms > 10 s on bare gunicorn")
        if r["max_thread_wait_s"] > r["write_timeout_s"]:
            problems.append(f"a thread waited {r['max_thread_wait_s']} s on a client (> {r['write_timeout_s']} s)")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("proxy", "bare", "both"), default="both")
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--slow", type=int, default=64)
    parser.add_argument("--idle", type=int, default=64)
    parser.add_argument("--rows", type=int, default=12_000)
    parser.add_argument("--write-timeout", type=float, default=WRITE_TIMEOUT,
                        help="the server's GUNICORN_WRITE_TIMEOUT (its write deadline), seconds")
    parser.add_argument("--model", choices=("on", "off"), default="on")
    parser.add_argument("--check", action="store_true", help="exit 1 when a bound of the acceptance fails")
    args = parser.parse_args(argv)
    targets = ("proxy", "bare") if args.target == "both" else (args.target,)
    failed = False
    for r in measure(targets, args.hold, args.slow, args.idle, args.rows, args.write_timeout, args.model):
        r["problems"] = verdict(r)
        r["python"] = platform.python_version()
        print(json.dumps(r), flush=True)
        failed |= bool(r["problems"])
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
