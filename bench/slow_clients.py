"""Slow clients and slow FHIR servers against the real server (``python bench/slow_clients.py``).

Starts gunicorn with the production config (``riskservice.gunicorn_conf``) and measures, per
scenario, how long each hostile connection holds the server and what an ordinary client sees
meanwhile (latency of /v1/score probes sent once every 0.2 s):

1. ``stall``: clients that send headers and a Content-Length larger than the body, then wait;
2. ``dribble``: clients that send the body one byte per second;
3. ``slowloris``: clients that send the request line and headers one byte per second;
4. ``slow FHIR``: CDS Hooks calls whose allow-listed fhirServer answers one byte every 0.5 s.

Run once with the default worker (gthread) and, for comparison, with ``--worker-class sync``.
Bounded: about a minute per worker class. Figures: docs/security.md ("Slow clients").
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.realserver import RealServer  # noqa: E402
from tests.security.corpus import send  # noqa: E402  (after the path insert)
from tests.security.servers import LocalServer  # noqa: E402

PATIENT = '{"age":52,"sex":"male","bmi":31.2,"waist":104}'


def probe_loop(server, stop: threading.Event, out: list):
    case = {"path": "/v1/score", "body": PATIENT}
    while not stop.is_set():
        try:
            a = send(server.host, server.port, case, timeout=60)
            out.append((a.seconds, a.status))
        except OSError as exc:
            out.append((float("nan"), type(exc).__name__))
        stop.wait(0.2)


def hostile(server, case, n: int) -> list:
    results, threads = [], []

    def one():
        try:
            a = send(server.host, server.port, case, timeout=90)
            results.append((a.seconds, a.status))
        except OSError as exc:
            results.append((float("nan"), type(exc).__name__))
        except Exception as exc:  # noqa: BLE001 - e.g. a malformed answer: record it
            results.append((float("nan"), type(exc).__name__))
    for _ in range(n):
        t = threading.Thread(target=one)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return results


def scenario(server, name, case, n):
    stop, probes = threading.Event(), []
    prober = threading.Thread(target=probe_loop, args=(server, stop, probes))
    prober.start()
    time.sleep(0.5)
    started = time.monotonic()
    held = hostile(server, case, n)
    wall = time.monotonic() - started
    time.sleep(0.5)
    stop.set()
    prober.join()
    ok = [s for s, st in probes if st == 200]
    return {"scenario": name, "hostile_clients": n, "wall_s": round(wall, 2),
            "held_s_max": round(max((s for s, _ in held if not math.isnan(s)), default=float("nan")), 2),
            "hostile_statuses": sorted({"closed" if st == 0 else str(st) for _, st in held}),
            "probes": len(probes), "probes_ok": len(ok),
            "probe_ms_median": round(statistics.median(ok) * 1000, 1) if ok else None,
            "probe_ms_max": round(max(ok) * 1000, 1) if ok else None,
            "probe_failures": sorted({str(st) for _, st in probes if st != 200})}


def run(worker_class: str, n: int) -> list:
    from tests.ehr.helpers import hook_request, prefetch_for, strip_keys
    rows = []
    with tempfile.TemporaryDirectory() as tmp, LocalServer("slow", drip=0.5) as fhir:
        env = {"GUNICORN_WORKER_CLASS": worker_class, "WEB_CONCURRENCY": "2",
               "RISKSERVICE_PUBLIC_BASE_URL": "https://cds.example.org",
               "RISKSERVICE_CDS_FHIR_SERVER_ALLOWLIST": json.dumps([fhir.base + "/fhir"])}
        with RealServer(Path(tmp) / "server.log", **env) as server:
            rows.append(scenario(server, "stall (Content-Length 5000, 40 bytes sent)",
                                 {"path": "/v1/score", "body": PATIENT, "content_length": 5000}, n))
            rows.append(scenario(server, "dribble (1 byte/s)", {"path": "/v1/score", "body": PATIENT, "dribble": 1.0}, n))
            rows.append(scenario(server, "slowloris (headers at 1 byte/s)",
                                 {"method": "GET", "path": "/healthz", "dribble_headers": 1.0}, n))
            hook = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "labs", "conditions"),
                                fhirServer=fhir.base + "/fhir",
                                fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                                   "scope": "patient/*.read", "subject": "rs"})
            rows.append(scenario(server, "slow FHIR server (1 byte/0.5 s)",
                                 {"path": "/cds-services/ir-risk", "body": json.dumps(hook)}, n))
    for r in rows:
        r["worker_class"] = worker_class
    return rows


def markdown(rows) -> str:
    out = [(f"Python {platform.python_version()}, 2 workers, default thread count; {rows[0]['hostile_clients']} hostile "
            "clients at once per scenario; probe = one /v1/score every 0.2 s on a fresh connection."), "",
           "| worker | scenario | hostile answer | held (max s) | probes ok / sent | probe median ms | probe max ms |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        out.append(f"| {r['worker_class']} | {r['scenario']} | {', '.join(r['hostile_statuses'])} | {r['held_s_max']} | "
                   f"{r['probes_ok']} / {r['probes']} | {r['probe_ms_median']} | {r['probe_ms_max']} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker-class", action="append", help="gthread (default) and/or sync")
    ap.add_argument("--clients", type=int, default=4, help="hostile clients at once per scenario")
    ap.add_argument("--json", help="also write the rows here")
    args = ap.parse_args()
    rows = []
    for wc in args.worker_class or ["gthread"]:
        rows += run(wc, args.clients)
    print(markdown(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
