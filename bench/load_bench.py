"""Load benchmark: POST /v1/score under the production gunicorn config, against the floor
of a bare Flask JSON echo (bench/echo_app.py) under the same config, in one run.

Usage:  .venv/bin/python bench/load_bench.py [--duration 30] [--connections 32] [--json out.json]

Needs ``wrk`` (Debian/Ubuntu: ``apt-get install -y wrk``; ``--install`` runs that when root).
Both servers bind 127.0.0.1 only. Worker recycling (max_requests) is switched off for the run
(``--max-requests`` to change) so that the same workers serve all of it and their memory
(RSS, from /proc) can be compared at start and end. Run it on an otherwise idle machine: wrk
shares the CPUs with the workers, and the load average is printed so a busy run shows.
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
PATIENT = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "mvpa_minutes_per_week": 30,
           "family_history_diabetes": "first_degree", "hs_crp": 4.1, "medications": ["prednisolone"],
           "fasting_glucose": 104, "fasting_glucose_unit": "mg/dL", "fasting_insulin": 14,
           "triglycerides": 180, "hdl_cholesterol": 38}
TARGETS = {"floor (Flask JSON echo)": ("echo_app:app", "/echo"),
           "POST /v1/score": ("riskservice:create_app()", "/v1/score"),
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


def start(app: str, path: str, max_requests: int, log: Path):
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "GUNICORN_MAX_REQUESTS": str(max_requests),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
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


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def run_wrk(wrk: str, url: str, duration: int, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(PATIENT, f)
    env = {**os.environ, "WRK_BODY_FILE": f.name}
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s",
           "-s", str(BENCH / "post.lua"), url]
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    dist = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", text, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return {"requests": int(re.search(r"(\d+) requests in", text).group(1)),
            "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
            "p50_ms": to_ms(dist["50"]), "p99_ms": to_ms(dist["99"]),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0,
            "wrk_output": text}


def bench_target(name, app, path, args, wrk, outdir) -> dict:
    proc, url = start(app, path, args.max_requests, outdir / f"{path.strip('/').replace('/', '_')}.log")
    print(f"{name}: {args.duration} s ...", file=sys.stderr, flush=True)
    try:
        rss_boot = workers_rss_kib(proc.pid)
        run_wrk(wrk, url, args.warmup, args.connections, args.threads)
        rss_start = workers_rss_kib(proc.pid)
        load_before = os.getloadavg()
        result = run_wrk(wrk, url, args.duration, args.connections, args.threads)
        rss_end = workers_rss_kib(proc.pid)
        result.update(name=name, url_path=path, rss_kib_boot=rss_boot, rss_kib_start=rss_start,
                      rss_kib_end=rss_end, loadavg_before=load_before, loadavg_after=os.getloadavg())
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(results: list, args) -> str:
    floor, score = results[:2]
    ratio = score["req_per_s"] / floor["req_per_s"]
    lines = [f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, gunicorn "
             f"{os.environ.get('WEB_CONCURRENCY', os.cpu_count())} sync workers (riskservice.gunicorn_conf), "
             f"{os.cpu_count()} CPUs, loopback",
             "", "| target | req/s | p50 ms | p99 ms | non-2xx | socket errors | worker RSS MiB start -> end |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        rss = ", ".join(f"{r['rss_kib_start'].get(pid, 0) / 1024:.1f} -> {kib / 1024:.1f}"
                        for pid, kib in r["rss_kib_end"].items())
        lines.append(f"| {r['name']} | {r['req_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['non_2xx']} | {r['socket_errors']} | {rss} |")
    lines += ["", f"score / floor throughput ratio: {ratio:.2f} (target >= 0.80); score / same-size floor: "
              f"{score['req_per_s'] / results[2]['req_per_s']:.2f}; score p99 "
              f"{score['p99_ms']:.2f} ms (target < 15 ms); non-2xx {score['non_2xx']} (target 0)",
              f"load average before/after: floor {floor['loadavg_before'][0]:.2f}/{floor['loadavg_after'][0]:.2f}, "
              f"score {score['loadavg_before'][0]:.2f}/{score['loadavg_after'][0]:.2f}"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-requests", type=int, default=0)
    ap.add_argument("--install", action="store_true", help="apt-get install wrk when missing (root)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    wrk = ensure_wrk(args.install)
    outdir = ROOT / "bench" / "out"
    outdir.mkdir(parents=True, exist_ok=True)
    print(f"load average now: {os.getloadavg()[0]:.2f} (run on an idle machine)", flush=True)
    results = [bench_target(name, app, path, args, wrk, outdir) for name, (app, path) in TARGETS.items()]
    print(report(results, args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
