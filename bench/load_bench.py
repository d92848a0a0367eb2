"""Load benchmark: POST /v1/score (view=summary and view=full) under the production gunicorn
config, against the floor of a bare Flask JSON echo (bench/echo_app.py) under the same config.

Every request carries a different patient (bench/patients.py, 2,000 distinct bodies cycled by
bench/post_many.lua), so nothing can be answered from an earlier result; every body is checked
to score (HTTP 200) before the run, and wrk's non-2xx count must stay 0.

Usage:  .venv/bin/python bench/load_bench.py [--duration 10] [--connections 32] [--json out.json]
        [--max-requests N] [--profile docs/flame-summary.svg]

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``; ``--install`` runs that when root).
All servers bind 127.0.0.1 only. Worker recycling is as in production (gunicorn_conf:
max_requests 10000 + jitter 1000) unless ``--max-requests`` is given (0 = never recycle). The load
average is printed with every figure: wrk shares the CPUs with the workers, and on a shared
machine other work shows up as noise. ``--profile`` records the workers of the summary run with
py-spy (``pip install py-spy``; needs ptrace rights) into a flame graph SVG.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import patients  # noqa: E402  (bench/patients.py)

PATIENT = json.loads(patients.bodies(1)[0])  # start-up probe
TARGETS = {"floor (Flask JSON echo)": ("echo_app:app", "/echo"),
           "POST /v1/score?view=summary": ("riskservice:create_app()", "/v1/score?view=summary"),
           "POST /v1/score?view=full": ("riskservice:create_app()", "/v1/score?view=full"),
           "floor with a score-sized body (60 kB, pre-encoded)": ("echo_app:app", "/echo_large")}


def ensure_wrk(install: bool) -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if install and os.geteuid() == 0:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
        return shutil.which("wrk")
    sys.exit("wrk is not installed: apt-get install -y wrk (or rerun with --install as root)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(app: str, path: str, max_requests: int | None, log: Path):
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    if max_requests is not None:
        env["GUNICORN_MAX_REQUESTS"] = str(max_requests)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    out = log.open("wb")
    proc = subprocess.Popen([str(gunicorn), "-c", "python:riskservice.gunicorn_conf", "--pythonpath", str(BENCH), app],
                            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}{path}"
    body = json.dumps(PATIENT).encode()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=2).read()
            return proc, url
        except OSError:
            if proc.poll() is not None:
                sys.exit(log.read_text())
            time.sleep(0.2)
    proc.kill()
    sys.exit(f"{app} did not come up; see {log}")


def workers_rss_kib(master: int) -> dict:
    """pid -> VmRSS (KiB) of the master's children (the gunicorn workers)."""
    out = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(master):
            out[int(status.parent.name)] = int(fields["VmRSS"].split()[0])
    return dict(sorted(out.items()))


def workers_cpu_s(master: int) -> float:
    """CPU seconds (user+sys) spent by the master's workers so far: the live ones from their
    /proc stat, the recycled ones from the master's cutime+cstime (added when they are reaped).
    Per request this is steadier than req/s on a shared machine, where a runnable worker may
    wait for a CPU that other work holds."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid):
        text = Path(f"/proc/{pid}/stat").read_text()
        return text[text.rindex(")") + 2:].split()   # fields from 3 (state) on
    total = sum(float(x) for x in stat(master)[13:15])          # cutime, cstime
    for pid in workers_rss_kib(master):
        try:
            total += sum(float(x) for x in stat(pid)[11:13])    # utime, stime
        except OSError:
            pass
    return total / tick


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def check_bodies(url: str, bodies: list) -> None:
    """Every body must score (HTTP 200): a 422 is cheap and would flatter the figures."""
    for body in bodies:
        req = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            if r.status != 200:
                sys.exit(f"a benchmark body did not score: HTTP {r.status}")


def run_wrk(wrk: str, url: str, duration: int, connections: int, threads: int, bodies_file: str) -> dict:
    env = {**os.environ, "WRK_BODIES_FILE": bodies_file}
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s",
           "-s", str(BENCH / "post_many.lua"), url]
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"requests": int(re.search(r"(\d+) requests in", text).group(1)),
            "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": to_ms(dist["50"]), "p99_ms": to_ms(dist["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "wrk_output": text}


def bench_target(name, app, path, args, wrk, outdir, bodies, bodies_file, profile=None) -> dict:
    log = outdir / f"{re.sub(r'[^A-Za-z0-9]+', '_', path.strip('/'))}.log"
    proc, url = start(app, path, args.max_requests, log)
    print(f"{name}: {args.duration} s ...", file=sys.stderr, flush=True)
    try:
        check_bodies(url, bodies[:50])
        rss_boot = workers_rss_kib(proc.pid)
        run_wrk(wrk, url, args.warmup, args.connections, args.threads, bodies_file)
        rss_start = workers_rss_kib(proc.pid)
        spy = None
        if profile:
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--subprocesses",
                                    "--pid", str(proc.pid), "--duration", str(args.duration), "--rate", "200",
                                    "--nonblocking", "--format", "flamegraph", "--output", str(profile)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        load_before = os.getloadavg()
        cpu_before = workers_cpu_s(proc.pid)
        result = run_wrk(wrk, url, args.duration, args.connections, args.threads, bodies_file)
        result["worker_cpu_ms_per_request"] = (workers_cpu_s(proc.pid) - cpu_before) * 1e3 / max(result["requests"], 1)
        if spy is not None:
            spy.wait(timeout=60)
        rss_end = workers_rss_kib(proc.pid)
        result.update(name=name, url_path=path, rss_kib_boot=rss_boot, rss_kib_start=rss_start,
                      rss_kib_end=rss_end, loadavg_before=load_before, loadavg_after=os.getloadavg(),
                      workers_started=len(re.findall(r"Booting worker", log.read_text(errors="replace"))))
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(results: list, args) -> str:
    by = {r["name"]: r for r in results}
    floor = by["floor (Flask JSON echo)"]
    recycling = "as production (10000 + jitter 1000)" if args.max_requests is None else (
        "off" if args.max_requests == 0 else f"every {args.max_requests} requests")
    lines = [f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, gunicorn "
             f"{os.environ.get('WEB_CONCURRENCY', os.cpu_count())} gthread workers x "
             f"{os.environ.get('GUNICORN_THREADS', 4)} threads (riskservice.gunicorn_conf), "
             f"worker recycling {recycling}, {os.cpu_count()} CPUs, loopback, a different patient per request",
             "", "| target | req/s | / floor | worker CPU ms/request | floor CPU / this CPU | p50 ms | p99 ms | "
                 "non-2xx | socket errors | workers booted | load avg before -> after | worker RSS MiB start -> end |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in results:
        rss = ", ".join(f"{r['rss_kib_start'].get(pid, 0) / 1024:.1f} -> {kib / 1024:.1f}"
                        for pid, kib in r["rss_kib_end"].items())
        cpu = r["worker_cpu_ms_per_request"]
        lines.append(f"| {r['name']} | {r['req_per_s']:.0f} | {r['req_per_s'] / floor['req_per_s']:.2f} | "
                     f"{cpu:.3f} | {floor['worker_cpu_ms_per_request'] / cpu:.2f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['non_2xx']} | {r['socket_errors']} | "
                     f"{r['workers_started']} | {r['loadavg_before'][0]:.2f} -> {r['loadavg_after'][0]:.2f} | {rss} |")
    summary, full = by.get("POST /v1/score?view=summary"), by.get("POST /v1/score?view=full")
    if summary:
        lines += ["", f"summary / floor {summary['req_per_s'] / floor['req_per_s']:.2f} (target >= 0.65), "
                      f"summary p99 {summary['p99_ms']:.2f} ms (target <= 25 ms)"]
    if full:
        lines += [f"full / floor {full['req_per_s'] / floor['req_per_s']:.2f} (target >= 0.40), "
                  f"full p99 {full['p99_ms']:.2f} ms"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-requests", type=int, default=None,
                    help="gunicorn max_requests for the run (default: as production; 0 = never recycle)")
    ap.add_argument("--only", action="append", help="run only targets whose name contains this (repeatable)")
    ap.add_argument("--profile", help="flame graph SVG of the summary run's workers (py-spy)")
    ap.add_argument("--install", action="store_true", help="apt-get install wrk when missing (root)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    wrk = ensure_wrk(args.install)
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    print(f"load average now: {os.getloadavg()[0]:.2f} (run on an idle machine)", flush=True)
    bodies = patients.bodies()
    with tempfile.NamedTemporaryFile("w", suffix=".ndjson", delete=False) as f:
        f.write("\n".join(bodies) + "\n")
    try:
        results = []
        for name, (app, path) in TARGETS.items():
            if args.only and not name.startswith("floor (") and not any(o in name for o in args.only):
                continue
            profile = args.profile if args.profile and "summary" in name else None
            results.append(bench_target(name, app, path, args, wrk, outdir, bodies, f.name, profile))
    finally:
        os.unlink(f.name)
    print(report(results, args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
