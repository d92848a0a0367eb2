"""Cold start: import + create_app + model load, and `riskservice score` for one patient (wall time).

Every sample is a fresh Python process, so nothing is warm except the OS file cache; the figure is
the median of --runs samples. Also prints where one cold start goes (phases) and what each
top-level package costs to import (``python -X importtime``, self + children, first importer wins).

Usage: .venv/bin/python bench/startup_bench.py [--runs 7] [--top 15] [--root OTHER_CHECKOUT]
Targets (issue 13): cold start <= 0.6 s, `riskservice score` for one patient <= 0.8 s.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PATIENT = {"age": 52, "sex": "female", "ethnicity": "south_asian", "bmi": 31.2, "waist": 98,
           "height": 162, "hdl_cholesterol": 41, "triglycerides": 190, "fasting_glucose": 104,
           "smoking": "never", "mvpa_minutes_per_week": 60, "sleep_hours_per_night": 6.5}

COLD_START = "from riskservice import create_app; create_app({'TESTING': True})"
PHASES = r"""
import json, sys, time
spent = {}
def timed(label, fn):
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
    return wrapper
t0 = time.perf_counter()
import riskservice.app as A
import riskservice.api.openapi as C
import riskservice.api.readiness as R
t1 = time.perf_counter()
A.load_knowledge = timed("load_knowledge (jsonschema validation of the knowledge files)", A.load_knowledge)
A._load_model = timed("load_model (JSON, both sha256 checked, self-check)", A._load_model)
C.openapi = timed("openapi(kb) (apispec)", C.openapi)
R.check = timed("readiness.check (scores one patient)", R.check)
A.build_app({'TESTING': True})
t2 = time.perf_counter()
out = {"import riskservice.app and its imports": t1 - t0, **spent}
out["rest of build_app (blueprint imports: api.batch, ehr, ...)"] = (t2 - t1) - sum(spent.values())
out["total"] = t2 - t0
out["sklearn/pandas/joblib/scipy imported"] = sorted(k for k in ("sklearn", "pandas", "joblib", "scipy")
                                                    if k in sys.modules)
print(json.dumps(out))
"""


PYCACHE = {"prefix": None}  # set in main(): where the children keep their bytecode


def env():
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.pop("RISKSERVICE_MODEL", None)
    if PYCACHE["prefix"]:
        # an installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE
        # would recompile every module on every start, which no deployment does
        e.pop("PYTHONDONTWRITEBYTECODE", None)
        e["PYTHONPYCACHEPREFIX"] = PYCACHE["prefix"]
    return e


def wall(cmd) -> tuple[float, float]:
    """(wall seconds, CPU seconds user+sys) of one fresh process running ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env(), stdout=subprocess.DEVNULL, check=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_wall(cmd, runs) -> tuple[float, list, float]:
    """(median wall, wall samples, median CPU): on a busy machine the CPU time is the steadier figure,
    and for this single-threaded work it is what the wall time is on an idle core."""
    samples = [wall(cmd) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), [w for w, _ in samples], statistics.median(c for _, c in samples)


def import_costs(top: int) -> list[tuple[str, float]]:
    """Import time (s) of each top-level package in a cold start, from -X importtime.

    A package is charged the cumulative time of the places where something outside it imports it
    (its own nested imports of other packages included; riskservice itself is not listed), so the
    numbers are what removing that import would save, give or take shared dependencies.
    """
    r = subprocess.run([PY, "-X", "importtime", "-c", COLD_START], cwd=ROOT, env=env(),
                       capture_output=True, text=True, check=True)
    rows = []
    for line in r.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if m:
            rows.append((len(m.group(3)) // 2, m.group(4), int(m.group(2)) / 1e6, int(m.group(1)) / 1e6))
    cost: dict[str, float] = {"riskservice (its own modules, self time)": sum(
        own for _, name, _, own in rows if name.split(".")[0] == "riskservice")}
    stack: list[tuple[int, str]] = []
    for depth, name, cum, _ in reversed(rows):  # parents come before their children when reversed
        while stack and stack[-1][0] >= depth:
            stack.pop()
        pkg = name.split(".")[0]
        if pkg != "riskservice" and pkg not in {p for _, p in stack}:
            cost[pkg] = cost.get(pkg, 0.0) + cum
        stack.append((depth, pkg))
    return sorted(cost.items(), key=lambda kv: -kv[1])[:top]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--root", type=Path, default=None,
                    help="measure another checkout (e.g. the commit before a change) instead of this one")
    ap.add_argument("--no-bytecode", action="store_true",
                    help="compile riskservice from source on every start (PYTHONDONTWRITEBYTECODE as given)")
    args = ap.parse_args()
    global ROOT
    if args.root:
        ROOT = args.root.resolve()
    with tempfile.TemporaryDirectory(prefix="startup-bench-pycache-") as prefix:
        if not args.no_bytecode:
            PYCACHE["prefix"] = prefix
        run(args)


def run(args):
    wall([PY, "-c", COLD_START])  # warm the OS file cache and __pycache__ once
    cold, cs, cold_cpu = median_wall([PY, "-c", COLD_START], args.runs)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(PATIENT, fh)
    try:
        score_cmd = [PY, "-c", "import sys; from riskservice.cli import main; sys.argv[0] = 'riskservice'; main()",
                     "score", fh.name]
        score, ss, score_cpu = median_wall(score_cmd, args.runs)
    finally:
        os.unlink(fh.name)
    floor, fs, floor_cpu = median_wall([PY, "-c", "pass"], args.runs)
    phases = json.loads(subprocess.run([PY, "-c", PHASES], cwd=ROOT, env=env(), capture_output=True, text=True,
                                       check=True).stdout)

    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    code = "compiled from source every time" if args.no_bytecode else "bytecode cached (as installed)"
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}, median of {args.runs} "
          f"fresh processes, riskservice {code}\n")
    print("| what | median wall | median CPU (user+sys) | wall samples | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| interpreter alone (`python -c pass`) | {floor:.3f} s | {floor_cpu:.3f} s | "
          f"{' '.join(f'{s:.2f}' for s in fs)} | |")
    print(f"| cold start: import + create_app + model load | {cold:.3f} s | {cold_cpu:.3f} s | "
          f"{' '.join(f'{s:.2f}' for s in cs)} | 0.6 s |")
    print(f"| `riskservice score` one patient | {score:.3f} s | {score_cpu:.3f} s | "
          f"{' '.join(f'{s:.2f}' for s in ss)} | 0.8 s |")
    print("\nOne cold start, by phase (one sample):\n")
    print("| phase | seconds |")
    print("| --- | --- |")
    for k, v in phases.items():
        print(f"| {k} | {v if isinstance(v, list) else f'{v:.3f}'} |")
    print("\nImport cost by third-party package (-X importtime, one sample):\n")
    print("| module | seconds |")
    print("| --- | --- |")
    for name, s in import_costs(args.top):
        print(f"| {name} | {s:.3f} |")


if __name__ == "__main__":
    main()
