"""Where each microsecond per row goes in ``riskservice score-csv``: CPU time per stage.

Runs the batch path's own stages one after the other, in one process, on a fixed slice of the
benchmark CSV (the first ``--rows`` rows of bench/out/patients_1000000.csv, made by
bench/make_csv.py), and divides each stage's ``time.process_time`` by the rows. The stages are
the functions ``BatchScorer.iter_csv`` and the parallel CLI call, so the sum is what a worker
spends; start-up (a fresh interpreter doing what the CLI does before it forks) and the parent's
share of the pool (finding record boundaries; before the workers wrote the output themselves,
also copying their parts into it) are measured separately.

Usage: .venv/bin/python bench/batch_breakdown.py [--rows 200000] [--repeat 3]
Prints a Markdown table (the README quotes it); the best of ``--repeat`` runs per stage.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SOURCE = OUT / "patients_1000000.csv"


def _slice(rows: int) -> bytes:
    if not SOURCE.exists():
        OUT.mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "make_csv.py"), str(SOURCE), "1000000"], check=True)
    out = bytearray()
    with open(SOURCE, "rb") as f:
        for k, line in enumerate(f):
            if k > rows:
                break
            out += line
    return bytes(out)


def _startup() -> tuple[float, float]:
    """(wall s, CPU s) of what score-csv does before it forks its workers: the imports, the
    knowledge and the model, the batch scorer (a fresh interpreter each time)."""
    code = ("from riskservice.cli.batch import run_score_csv; from riskservice.cli.scorer import build_scorer; "
            "from riskservice.rows.batch import BatchScorer; s = build_scorer(True); BatchScorer(s.knowledge, s.model)")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def stages(data: bytes):
    """CPU seconds per stage for one pass over ``data`` (header + rows), and the row count."""
    from riskservice.cli.scorer import build_scorer
    from riskservice.core import header as core
    from riskservice.core.inputs import from_columns
    from riskservice.core.render import render_rows
    from riskservice.csvio import records as csvrec
    from riskservice.rows import blocks as rowblocks
    from riskservice.rows import output as rowoutput
    from riskservice.rows.batch import BatchScorer, Stats

    scorer = build_scorer(True)
    batch = BatchScorer(scorer.knowledge, scorer.model)
    engine = batch.engine
    t = {}
    clock = time.process_time

    c = clock()
    stream, header = batch.open_csv(io.BytesIO(data))
    for _ in range(100):
        core.plan_columns(header.names)
    t["header: read, dialect, plan_columns (x1 per file)"] = (clock() - c) / 100

    c = clock()
    blocks = list(csvrec.split_blocks(stream, header.delimiter, rowblocks.BLOCK_SIZE, 2))
    t["csvio: split_blocks (1 MiB blocks, RFC 4180 check)"] = clock() - c

    c = clock()
    parsed = [rowblocks.parse_block(b, header) for b in blocks]
    t["csvio: parse block -> text columns (pyarrow)"] = clock() - c

    plan = header.plan
    t["inputs.from_columns"] = t["Engine.evaluate"] = t["render_rows"] = t["assemble table, interleave errors"] = 0.0
    pieces_all, stats = [], Stats()
    for p in parsed:
        c = clock()
        cols = {key: rowblocks.single_chunk(p.table.column(src)) for key, src in plan.fields.items()}
        typed = from_columns(cols, p.table.num_rows, engine.cx)
        c2 = clock()
        ev = engine.evaluate(typed)
        c3 = clock()
        out = render_rows(engine, ev, batch.audience)
        c4 = clock()
        t["inputs.from_columns"] += c2 - c
        t["Engine.evaluate"] += c3 - c2
        t["render_rows"] += c4 - c3
        # the rest of _score_block: the table with passthrough and disclaimer, errors in place
        c = clock()
        pieces_all.append(_assemble(batch, p, header, out, stats))
        t["assemble table, interleave errors"] += clock() - c

    c = clock()
    chunks = [rowoutput.format_pieces(pieces, header, True) for pieces in pieces_all]
    t["output: round, neutralise, CSV encode"] = clock() - c

    from riskservice.cli import batch as cli_batch
    with tempfile.TemporaryDirectory() as tmp:
        c = clock()
        with open(Path(tmp) / "part.csv", "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        t["output: worker writes its rows"] = clock() - c
        if not hasattr(cli_batch, "_segments"):  # before: workers wrote parts the parent then copied
            c = clock()
            _concat(Path(tmp) / "part.csv", Path(tmp) / "out.csv")
            t["pool: parent copies the parts into the output (serial, at the end)"] = clock() - c
    rows = sum(p.rows for p in parsed)
    return t, rows, sum(len(x) for x in chunks)


def _assemble(batch, parsed, header, out, stats):
    """What _score_block does after render_rows (same code, with the already rendered columns)."""
    import pyarrow as pa

    from riskservice.rows.output import RESULT_COLUMNS, SHORT_DISCLAIMER

    plan = header.plan
    n = parsed.table.num_rows
    out["disclaimer"] = pa.repeat(pa.scalar(SHORT_DISCLAIMER, pa.string()), n)
    arrays = [parsed.table.column(name) for name in plan.passthrough] + [out[name] for name in RESULT_COLUMNS]
    scored = pa.table(arrays, names=[*plan.passthrough, *RESULT_COLUMNS])
    saved = batch.score_table
    batch.score_table = lambda *_: scored
    try:
        return batch._score_block(parsed, header, batch_options(), None, stats)
    finally:
        batch.score_table = saved


def batch_options():
    from riskservice.csvio.dialect import CsvOptions
    return CsvOptions()


def _concat(part, dst):
    import shutil
    with open(dst, "wb") as out, open(part, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 22)


def _split_scan(data: bytes):
    """The parent's search for record boundaries for 2 workers on this slice."""
    from riskservice.cli import batch as cli_batch
    from riskservice.cli.scorer import build_scorer
    from riskservice.rows.batch import BatchScorer
    scorer = build_scorer(True)
    batch = BatchScorer(scorer.knowledge, scorer.model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.csv"
        path.write_bytes(data)
        with open(path, "rb") as f:
            header = batch.read_header(f)
            c = time.process_time()
            if hasattr(cli_batch, "_segments"):  # now: the whole file, while the workers score
                list(cli_batch._segments(str(path), header, f.tell(), len(data)))
            else:  # before: up to the last cut, before any worker starts
                cli_batch._record_cuts(f, header, f.tell(), len(data), 2)
            return time.process_time() - c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-startup", action="store_true")
    args = ap.parse_args()
    data = _slice(args.rows)
    first = _slice(8000)  # about one reader block: a fresh worker's first block pays its lazy imports
    import riskservice.cli.batch  # noqa: F401  what the CLI has imported before it forks
    if hasattr(riskservice.cli.batch, "_pyarrow_without_pandas"):  # as a forked worker does
        riskservice.cli.batch._pyarrow_without_pandas()
    if hasattr(riskservice.cli.batch, "keep_freed_pages"):  # as a forked worker does
        riskservice.cli.batch.keep_freed_pages()
    from riskservice.cli.scorer import build_scorer
    build_scorer(True)
    c = time.process_time()
    stages(first)
    warm = time.process_time() - c
    best, rows, out_bytes = None, 0, 0
    for _ in range(args.repeat):
        t, rows, out_bytes = stages(data)
        best = t if best is None else {k: min(best[k], t[k]) for k in t}
    import importlib.util
    scan = ("pool: record boundaries (a child forked at start-up, while the parent imports)"
            if importlib.util.find_spec("riskservice.cli.prescan") else "pool: parent finds record boundaries")
    best[scan] = min(_split_scan(data) for _ in range(args.repeat))
    per_row = {k: v / rows * 1e6 for k, v in best.items()}
    # once per file: shown per row of a 1M-row file
    per_row["header: read, dialect, plan_columns (x1 per file)"] = best[
        "header: read, dialect, plan_columns (x1 per file)"] / 1e6 * 1e6
    total = sum(per_row.values())
    print(f"rows {rows:,}; output {out_bytes / rows:,.0f} bytes/row; CPU time (process_time), best of {args.repeat}")
    print()
    print("| stage | µs per row (CPU) | share |")
    print("| --- | ---: | ---: |")
    for k, v in per_row.items():
        print(f"| {k} | {v:.2f} | {v / total:.0%} |")
    print(f"| **total per row (one core)** | **{total:.2f}** | |")
    print(f"| rows/s on 2 cores if perfectly parallel | {2e6 / total:,.0f} | |")
    c = time.process_time()
    stages(first)
    once = warm - (time.process_time() - c)
    print(f"| worker warm-up, once per worker (first block's lazy imports, e.g. pandas via pyarrow) "
          f"| {once:.2f} s CPU | |")
    if not args.no_startup:
        runs = [_startup() for _ in range(max(args.repeat, 5))]
        wall, cpu = min(w for w, _ in runs), min(c for _, c in runs)
        # once per run: s of CPU spread over 1M rows is the same number in µs per row
        print(f"| start-up to the fork, once per run (best wall {wall:.2f} s, best CPU {cpu:.2f} s) "
              f"| {cpu:.2f} per row of a 1M-row file | |")


if __name__ == "__main__":
    main()
