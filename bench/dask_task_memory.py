"""Peak memory of one Dask task (score_partition_file) for a given slice size, in a fresh process.

Reads the first ~250,000 rows of row groups of the Dask benchmark's input (bench/dask_bench.py builds
bench/out/dask_in_10000000.parquet), scores them as one task does and prints the process's peak RSS
(ru_maxrss) and CPU time. Run one slice size per process, since peak RSS never goes down:

    for s in 250000 50000 25000; do .venv/bin/python bench/dask_task_memory.py --slice-rows $s; done
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slice-rows", type=int, required=True)
    ap.add_argument("--input", default=str(ROOT / "bench" / "out" / "dask_in_10000000.parquet"))
    ap.add_argument("--task-rows", type=int, default=250_000)
    args = ap.parse_args()

    import pyarrow.parquet as pq

    from riskservice import daskscore
    daskscore.SLICE_ROWS = args.slice_rows
    meta = pq.ParquetFile(args.input).metadata
    groups, rows = [], 0
    for g in range(meta.num_row_groups):
        groups.append(g)
        rows += meta.row_group(g).num_rows
        if rows >= args.task_rows:
            break
    daskscore._batch_scorer(None, None, True, "clinician")      # start-up, as a worker's first task
    started_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        rows_in, rows_out, _ = daskscore.score_partition_file(args.input, groups, f"{tmp}/part.parquet", None, None,
                                                              True, "clinician")
    assert rows_in == rows_out
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"slice {args.slice_rows} rows: task of {rows_in} rows, peak RSS {peak:.0f} MiB "
          f"(after start-up {started_kib / 1024:.0f} MiB), CPU {time.process_time() - cpu:.2f} s")


if __name__ == "__main__":
    main()
