"""Batch benchmark: `riskservice score-csv` end to end on a 1M-row CSV, against a per-row
loop over the single-patient scorer on a 20k-row slice (same machine, same run).

Usage: .venv/bin/python bench/batch_bench.py [--rows 1000000] [--slice 20000]
Prints a Markdown table; the README quotes its output.
"""
import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=20_000)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    src = OUT / f"patients_{args.rows}.csv"
    if not src.exists():
        subprocess.run([sys.executable, str(HERE / "make_csv.py"), str(src), str(args.rows)], check=True)
    cli = str(Path(sys.executable).with_name("riskservice"))
    t0 = time.perf_counter()
    err = OUT / "score-csv.stderr"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([cli, "score-csv", str(src), "-o", str(OUT / "scored.csv"), "--quiet"],
                                stderr=stderr)
        # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would include the CSV generator);
        # ru_maxrss of a parent does not include its forked workers, which are measured the same way
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    peak_mb = usage.ru_maxrss / 1024
    text = err.read_text()
    summary = [line for line in text.splitlines() if line.startswith("rows ")]
    procs = [line for line in text.splitlines() if line.startswith("processes:")]
    assert os.waitstatus_to_exitcode(status) in (0, 2), text

    from riskservice.app import build_app
    scorer = build_app({}).extensions["riskservice"]
    from riskservice.core.errors import ValidationProblem
    rows = []
    with open(src, newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            if i >= args.slice:
                break
            rows.append(_to_json(row))
    t1 = time.perf_counter()
    for r in rows:
        try:
            scorer.score(r)
        except ValidationProblem:
            pass
    loop = time.perf_counter() - t1
    batch_rate = args.rows / wall
    loop_rate = len(rows) / loop
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| rows | {args.rows:,} |")
    print(f"| `riskservice score-csv` wall time, start-up included | {wall:.2f} s |")
    print(f"| end-to-end throughput | {batch_rate:,.0f} rows/s |")
    print(f"| CLI's own summary (after start-up) | {summary[0] if summary else '-'} |")
    print(f"| peak RSS of the CLI's main process (wait4) | {peak_mb:,.0f} MB |")
    print(f"| CLI's own process report | {procs[0] if procs else 'single process'} |")
    print(f"| per-row loop over `Scorer.score` ({len(rows):,} rows) | {loop_rate:,.0f} rows/s |")
    print(f"| speed-up of the batch path | {batch_rate / loop_rate:.1f}x |")
    print(f"| cores | {os.cpu_count()} |")


def _to_json(row):
    out = {}
    for k, v in row.items():
        if v == "" or k == "record_id":
            continue
        if k in ("sex", "ethnicity", "smoking", "family_history_diabetes") or k.endswith("_unit"):
            out[k] = v
        elif k == "medications":
            out[k] = [x for x in v.split(";") if x]
        elif k == "hypertension":
            out[k] = v == "true"
        else:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


if __name__ == "__main__":
    main()
