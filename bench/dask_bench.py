"""Dask benchmark: score a 10M-row Parquet dataset with 1 and then 2 local Dask workers.

The input is built once in bench/out/ (bounded memory): ``--distinct`` synthetic patients
(bench/make_csv.py: NHANES-like values, blanks, mixed units, 1% broken rows) are typed through
pyarrow's CSV reader in chunks and written as row groups, then those row groups are repeated
until ``--rows``. Repeating is honest for throughput: nothing caches results (the engine only
remembers the class matches of distinct medication lists, on every path alike).

Each run starts a fresh LocalCluster (one process per worker, one thread each), scores the
whole dataset into a fresh output directory and checks that every row came back. Figures:
wall time (cluster start-up excluded, knowledge/model loading in the workers included),
rows/s, rows/s per worker, the load average, and the workers' RSS at the end.

Usage: .venv/bin/python bench/dask_bench.py [--rows 10000000] [--workers 1 2] [--partition-rows 250000]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT / "bench"))


def build_input(path: Path, rows: int, distinct: int, group_rows: int) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq
    from make_csv import make

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return
    t = time.perf_counter()
    groups, schema = [], None
    for k, start in enumerate(range(0, distinct, group_rows)):
        n = min(group_rows, distinct - start)
        text = make(n, seed=20261125 + k).to_csv(index=False).encode()
        opts = pacsv.ConvertOptions(column_types=schema) if schema is not None else None
        table = pacsv.read_csv(io.BytesIO(text), convert_options=opts)
        schema = schema or table.schema
        groups.append(table.cast(schema))
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(tmp, schema) as writer:
        written = 0
        while written < rows:
            for table in groups:
                take = min(table.num_rows, rows - written)
                writer.write_table(table.slice(0, take), row_group_size=group_rows)
                written += take
                if written >= rows:
                    break
    tmp.rename(path)
    print(f"built {path} ({rows:,} rows, {distinct:,} distinct) in {time.perf_counter() - t:.0f} s", flush=True)


def _cpu_seconds() -> float:
    """CPU seconds (user+sys) of this worker process so far."""
    import psutil
    t = psutil.Process().cpu_times()
    return t.user + t.system


def run(infile: Path, workers: int, partition_rows: int, model: bool) -> dict:
    from dask.distributed import Client, LocalCluster

    from riskservice.daskscore import score_parquet

    outdir = OUT / f"dask_out_{workers}"
    shutil.rmtree(outdir, ignore_errors=True)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit="2GiB") as cluster, Client(cluster) as client:
        cpu = client.run(_cpu_seconds)
        load_before = os.getloadavg()
        stats = score_parquet(infile, outdir, client=client, model=model, rows_per_partition=partition_rows)
        load_after = os.getloadavg()
        cpu = sum(client.run(_cpu_seconds).values()) - sum(cpu.values())
        rss = client.run(lambda: __import__("psutil").Process().memory_info().rss)
    shutil.rmtree(outdir, ignore_errors=True)
    return {**stats, "workers": workers, "load_before": load_before, "load_after": load_after, "cpu_s": cpu,
            "rss_mib": sorted(r / 2**20 for r in rss.values())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--distinct", type=int, default=1_000_000)
    ap.add_argument("--group-rows", type=int, default=250_000, help="rows per Parquet row group")
    ap.add_argument("--partition-rows", type=int, default=250_000, help="rows per Dask task")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-model", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    infile = OUT / f"dask_in_{args.rows}.parquet"
    build_input(infile, args.rows, min(args.distinct, args.rows), args.group_rows)
    results = []
    for w in args.workers:
        print(f"{w} worker(s) ...", file=sys.stderr, flush=True)
        results.append(run(infile, w, args.partition_rows, not args.no_model))
    base = results[0]["rows_in"] / results[0]["seconds"] / results[0]["workers"]
    print(f"\n{args.rows:,} rows, {results[0]['partitions']} tasks of ~{args.partition_rows:,} rows, "
          f"{os.cpu_count()} CPUs, LocalCluster (1 process per worker, 1 thread), model {'off' if args.no_model else 'on'}\n")
    print("| workers | wall s | rows/s | rows/s per worker | scaling vs 1 worker | worker CPU s | rows per CPU-second | "
          "rows with errors | load avg before -> after | worker RSS MiB |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in results:
        rate = r["rows_in"] / r["seconds"]
        print(f"| {r['workers']} | {r['seconds']:.1f} | {rate:,.0f} | {rate / r['workers']:,.0f} | "
              f"{rate / (base * r['workers']):.2f} | {r['cpu_s']:.1f} | {r['rows_in'] / r['cpu_s']:,.0f} | {r['errors']:,} | "
              f"{r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f} | "
              f"{', '.join(f'{m:.0f}' for m in r['rss_mib'])} |")


if __name__ == "__main__":
    main()
