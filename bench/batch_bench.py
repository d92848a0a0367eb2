"""Batch benchmark: `riskservice score-csv` end to end on a 1M-row CSV, against a per-row
loop over the single-patient scorer on a 20k-row slice (same machine, same run). Reports the
wall time, the CPU time and the peak memory of the whole process tree (workers included).
The output goes to a new file (the previous run's output is removed first).

Usage: .venv/bin/python bench/batch_bench.py [--rows 1000000] [--slice 20000]  (--slice 0: no loop)
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
    # a new output file, as when scoring a new input: over an existing 420 MB output, ext4's
    # auto_da_alloc starts writeback of the whole file when score-csv closes it (0.2 s more)
    (OUT / "scored.csv").unlink(missing_ok=True)
    t0 = time.perf_counter()
    err = OUT / "score-csv.stderr"
    with open(err, "w") as stderr:
        proc = subprocess.Popen([cli, "score-csv", str(src), "-o", str(OUT / "scored.csv"), "--quiet"],
                                stderr=stderr)
        tree = TreeMemory(proc.pid)
        # wait4 gives this child's usage with its waited-for workers (the CPU of the whole tree, and
        # the peak RSS of its largest process, what GNU time -v reports); RUSAGE_CHILDREN would
        # include the CSV generator
        _, status, usage = os.wait4(proc.pid, 0)
        tree.stop()
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
    for r in rows:  # --slice 0 skips the loop
        try:
            scorer.score(r)
        except ValidationProblem:
            pass
    loop = time.perf_counter() - t1
    batch_rate = args.rows / wall
    loop_rate = len(rows) / loop if rows else None
    print("| measure | value |")
    print("| --- | --- |")
    print(f"| rows | {args.rows:,} |")
    print(f"| `riskservice score-csv` wall time, start-up included | {wall:.2f} s |")
    print(f"| end-to-end throughput | {batch_rate:,.0f} rows/s |")
    print(f"| CLI's own summary (after start-up) | {summary[0] if summary else '-'} |")
    print(f"| CPU time of the process tree (user + system) | {usage.ru_utime + usage.ru_stime:.2f} s |")
    print(f"| peak RSS of the largest process (wait4, as GNU time -v) | {peak_mb:,.0f} MB |")
    print(f"| peak RSS of the process tree, summed (sampled every 50 ms) | {tree.rss_mb:,.0f} MB |")
    print(f"| peak PSS of the process tree, summed (shared pages counted once) | {tree.pss_mb:,.0f} MB |")
    print(f"| CLI's own process report | {procs[0] if procs else 'single process'} |")
    if loop_rate:
        print(f"| per-row loop over `Scorer.score` ({len(rows):,} rows) | {loop_rate:,.0f} rows/s |")
        print(f"| speed-up of the batch path | {batch_rate / loop_rate:.1f}x |")
    print(f"| cores | {os.cpu_count()} |")


class TreeMemory:
    """Samples the summed RSS and PSS of a process and its children until stopped. RSS counts
    the pages forked workers share with their parent once per process; PSS splits them."""

    def __init__(self, pid):
        import threading
        self.pid, self.rss_mb, self.pss_mb, self.running = pid, 0.0, 0.0, True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            rss = pss = 0
            try:
                kids = open(f"/proc/{self.pid}/task/{self.pid}/children").read().split()
            except OSError:
                kids = []
            for pid in [self.pid, *map(int, kids)]:
                rss += _kb(f"/proc/{pid}/status", "VmRSS:")
                pss += _kb(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.rss_mb, self.pss_mb = max(self.rss_mb, rss / 1024), max(self.pss_mb, pss / 1024)
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()


def _kb(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


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
