"""Instructions per row of one batch stage, under valgrind's callgrind (independent of the machine's load).

Prepares the blocks of the first ``ROWS`` rows of the benchmark CSV (bench/out/patients_1000000.csv) as a
score-csv worker does, runs the stage once to warm up, then once more with callgrind's instrumentation
switched on (``callgrind_control -i on/off`` on this process) and prints that pass's instructions per row.

Usage (valgrind installed): .venv/bin/python bench/batch_instructions.py STAGE [ROWS]
  STAGE: parse | inputs | engine | render | format       ROWS: default 10000
It re-runs itself under ``valgrind --tool=callgrind --instr-atstart=no`` and reads the total with
``callgrind_annotate``; about half a minute per stage.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("parse", "inputs", "engine", "render", "format")


def _measured(stage: str, rows: int) -> int:
    sys.path.insert(0, str(HERE))
    import batch_breakdown as bb

    from riskservice.cli import batch as cli_batch
    from riskservice.cli.scorer import build_scorer
    from riskservice.core.inputs import from_columns
    from riskservice.core.render import render_rows
    from riskservice.csvio import records as csvrec
    from riskservice.rows import blocks as rowblocks
    from riskservice.rows import output as rowoutput
    from riskservice.rows.batch import BatchScorer, Stats

    cli_batch._pyarrow_without_pandas()
    if hasattr(cli_batch, "keep_freed_pages"):
        cli_batch.keep_freed_pages()
    scorer = build_scorer(True)
    batch = BatchScorer(scorer.knowledge, scorer.model)
    engine = batch.engine
    stream, header = batch.open_csv(io.BytesIO(bb._slice(rows)))
    blocks = list(csvrec.split_blocks(stream, header.delimiter, rowblocks.BLOCK_SIZE, 2))
    parsed = [rowblocks.parse_block(b, header) for b in blocks]
    plan = header.plan
    columns = [({k: rowblocks.single_chunk(p.table.column(src)) for k, src in plan.fields.items()}, p.table.num_rows)
               for p in parsed]
    typed = [from_columns(c, n, engine.cx) for c, n in columns]
    evs = [engine.evaluate(t) for t in typed]
    outs = [render_rows(engine, ev, batch.audience) for ev in evs]
    pieces = [bb._assemble(batch, p, header, out, Stats()) for p, out in zip(parsed, outs, strict=True)]
    run = {
        "parse": lambda: [rowblocks.parse_block(b, header) for b in blocks],
        "inputs": lambda: [from_columns(c, n, engine.cx) for c, n in columns],
        "engine": lambda: [engine.evaluate(t) for t in typed],
        "render": lambda: [render_rows(engine, ev, batch.audience) for ev in evs],
        "format": lambda: [rowoutput.format_pieces(p, header, True) for p in pieces],
    }[stage]
    run()
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], stdout=subprocess.DEVNULL, check=True)
    run()
    subprocess.run(["callgrind_control", "-i", "off", pid], stdout=subprocess.DEVNULL, check=True)
    return sum(t.n for t in typed)


def main():
    stage = sys.argv[1] if len(sys.argv) > 1 else "engine"
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    if stage not in STAGES:
        sys.exit(__doc__)
    if os.environ.get("BATCH_INSTRUCTIONS_CHILD"):
        print(_measured(stage, rows))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, stage, str(rows)],
            env={**os.environ, "BATCH_INSTRUCTIONS_CHILD": "1"}, capture_output=True, text=True, check=True)
        n = int(proc.stdout.split()[-1])
        report = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
        total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", report).group(1).replace(",", ""))
    print(f"{stage}: {total / n:,.0f} instructions per row ({n:,} rows)")


if __name__ == "__main__":
    main()
