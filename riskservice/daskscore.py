"""Score a Dask DataFrame or a Parquet dataset partition by partition, with the same engine.

Each partition goes through the CSV path's own adapter and renderer
(:meth:`riskservice.rows.batch.BatchScorer.score_table`): typed Parquet columns are turned into
the text the CSV path would have read (numbers in shortest round-trip form, booleans as
true/false, nulls as empty cells), so a patient scores the same here, in a CSV and over HTTP.
Every partition gives exactly one output row per input row, in order (checked), with the
columns of the CSV output: the passthrough columns, then the result columns.

Each Dask worker process loads and verifies the knowledge and the model once
(:func:`_batch_scorer`), not once per partition; nothing but column data travels between
scheduler and workers. Needs the ``dask`` extra: ``pip install riskservice[dask]``.
"""
from __future__ import annotations

import time
from pathlib import Path

_SCORERS: dict = {}


def _batch_scorer(knowledge_dir, model_dir, model: bool, audience: str):
    """The process's BatchScorer for this configuration (built on first use, then reused)."""
    key = (knowledge_dir, model_dir, model, audience)
    scorer = _SCORERS.get(key)
    if scorer is None:
        from riskservice.core.knowledge import load_knowledge
        from riskservice.rows.batch import BatchScorer
        kb = load_knowledge(knowledge_dir)
        loaded = None
        if model:
            from riskservice.app import default_model_dir
            from riskservice.model.modelset import load_models
            loaded = load_models(model_dir or default_model_dir())
        scorer = _SCORERS[key] = BatchScorer(kb, loaded, audience=audience)
    return scorer


def as_csv_text(table):
    """Every column as the text a CSV would hold: strings as they are, numbers and booleans
    formatted by Arrow (shortest round-trip), nulls (and NaN) as empty cells."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if table.num_rows == 0:   # one empty chunk per column (the batch scorer expects a chunk)
        return pa.table([pa.array([], pa.string()) for _ in table.column_names], names=table.column_names)
    columns = []
    for col in table.columns:
        if pa.types.is_floating(col.type):
            col = pc.if_else(pc.is_nan(col), pa.scalar(None, col.type), col)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = pc.cast(col, pa.string())
        columns.append(pc.fill_null(col, ""))
    return pa.table(columns, names=table.column_names)


def score_arrow(table, scorer, mapping=None):
    """Result table (passthrough + result columns) for one Arrow table of patients; its columns are
    recognised as the CSV path recognises a header (synonyms, units in names, ``mapping``)."""
    import pyarrow as pa

    from riskservice.core import header

    names = [str(n) for n in table.column_names]
    plan = header.plan_columns(names, scorer.knowledge, mapping)
    if plan.problems:
        from riskservice.rows.batch import HeaderProblem
        raise HeaderProblem(plan.problems)
    text = as_csv_text(table.rename_columns(names)).combine_chunks()
    scored = scorer.score_table(text, plan)
    if scored.num_rows != table.num_rows:   # the one-row-out-per-row-in rule
        raise RuntimeError(f"partition of {table.num_rows} rows gave {scored.num_rows} result rows")
    keep = len(plan.passthrough)   # passthrough columns keep their own types, results follow
    return pa.table([*(table.column(name) for name in plan.passthrough), *scored.columns[keep:]],
                    names=scored.column_names)


SLICE_ROWS = 25_000   # rows the engine holds at once inside a task (its arrays, not the task, set the memory)


def score_slices(table, scorer, mapping=None):
    """Result tables for ``table`` in slices of SLICE_ROWS rows (one empty result for an empty table),
    so the engine's arrays never cover more than one slice."""
    for start in range(0, max(table.num_rows, 1), SLICE_ROWS):
        yield score_arrow(table.slice(start, SLICE_ROWS), scorer, mapping)


def _score_partition(df, knowledge_dir, model_dir, model, audience, mapping=None):
    import pandas as pd
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    out = pa.concat_tables(score_slices(table, _batch_scorer(knowledge_dir, model_dir, model, audience), mapping))
    result = out.to_pandas(types_mapper=pd.ArrowDtype)
    result.index = df.index
    return result


def score_dataframe(ddf, *, model: bool = True, audience: str = "clinician", knowledge_dir=None, model_dir=None,
                    mapping=None):
    """A lazy Dask DataFrame of results: one row per input row, same partitions and index.

    ``ddf`` has columns as a CSV header has them (field names, synonyms such as ``Gender`` or
    ``HDL-C (mmol/L)``, ``<field>_unit``; ``mapping``, a :class:`riskservice.core.mapping.Mapping`,
    names the others), typed or text; other columns pass through. Results are Arrow-typed
    (points int64, probability double).
    """
    import pandas as pd
    import pyarrow as pa

    knowledge_dir = str(knowledge_dir) if knowledge_dir else None
    model_dir = str(model_dir) if model_dir else None
    sample = pa.Table.from_pandas(ddf._meta, preserve_index=False)
    meta = score_arrow(sample, _batch_scorer(knowledge_dir, model_dir, model, audience), mapping).to_pandas(
        types_mapper=pd.ArrowDtype)
    return ddf.map_partitions(_score_partition, knowledge_dir, model_dir, model, audience, mapping, meta=meta,
                              enforce_metadata=False, align_dataframes=False)


def parquet_rows(path) -> int:
    """Rows of a Parquet file or directory, from the footers only."""
    import pyarrow.dataset as ds
    return ds.dataset(str(path), format="parquet").count_rows()


PARTITION_ROWS = 250_000   # rows per task: whole row groups are gathered up to about this many


def plan_partitions(infile, rows_per_partition: int = PARTITION_ROWS) -> list:
    """[(file path, [row group ids])]: the input cut at row-group boundaries, in order."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    parts = []
    for path in sorted(ds.dataset(str(infile), format="parquet").files):
        meta = pq.ParquetFile(path).metadata
        groups, rows = [], 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= rows_per_partition:
                parts.append((path, groups))
                groups, rows = [], 0
        if groups or meta.num_row_groups == 0:
            parts.append((path, groups))
    return parts


def score_partition_file(path, groups, out_path, knowledge_dir, model_dir, model, audience, mapping=None) -> tuple:
    """One task: read these row groups, score them slice by slice into ``out_path``; (rows in,
    rows out, errors). Slicing keeps a worker's memory to one slice's arrays: one 250,000-row task
    peaked at 1,708-1,713 MiB scored at once (Dask's memory monitor paused workers at that) and at
    462-470 MiB in 25,000-row slices (bench/dask_task_memory.py)."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_groups(groups) if groups else pq.read_table(path)
    rows_out = errors = 0
    writer = None
    try:
        for out in score_slices(table, _batch_scorer(knowledge_dir, model_dir, model, audience), mapping):
            if writer is None:
                writer = pq.ParquetWriter(out_path, out.schema)
            writer.write_table(out)
            rows_out += out.num_rows
            errors += out.num_rows - out.column("error").null_count
    finally:
        if writer is not None:
            writer.close()
    return table.num_rows, rows_out, errors


def score_parquet(infile, outdir, *, client=None, model: bool = True, audience: str = "clinician",
                  rows_per_partition: int = PARTITION_ROWS, knowledge_dir=None, model_dir=None, mapping=None) -> dict:
    """Score the Parquet file or dataset ``infile`` into ``outdir`` (part-00000.parquet, ...).

    One Dask task per partition (whole row groups, about ``rows_per_partition`` rows), run on
    ``client`` (a dask.distributed Client) or the current Dask scheduler; the files must be
    readable where the workers run. Parts are numbered in input order. Returns {"rows_in",
    "rows_out", "errors", "partitions", "seconds", "columns"} (``columns``: which column became
    which field, and which were ignored); raises if a row went missing.
    """
    import dask
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from riskservice.core import header
    from riskservice.core.knowledge import load_knowledge

    start = time.perf_counter()
    names = ds.dataset(str(infile), format="parquet").schema.names
    plan = header.plan_columns([str(n) for n in names], load_knowledge(knowledge_dir), mapping)
    if plan.problems:   # refuse before any task runs, as score-csv refuses a bad header
        from riskservice.rows.batch import HeaderProblem
        raise HeaderProblem(plan.problems)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    knowledge_dir = str(knowledge_dir) if knowledge_dir else None
    model_dir = str(model_dir) if model_dir else None
    task = dask.delayed(score_partition_file, pure=False)
    parts = plan_partitions(infile, rows_per_partition)
    tasks = [task(path, groups, str(outdir / f"part-{k:05d}.parquet"), knowledge_dir, model_dir, model, audience,
                  mapping) for k, (path, groups) in enumerate(parts)]
    counts = client.gather(client.compute(tasks)) if client is not None else dask.compute(*tasks)
    rows_in, rows_out = sum(c[0] for c in counts), sum(c[1] for c in counts)
    expected = sum(pq.ParquetFile(f).metadata.num_rows for f in ds.dataset(str(infile), format="parquet").files)
    if not (rows_in == rows_out == expected == parquet_rows(outdir)):
        raise RuntimeError(f"{expected} rows in the input, {rows_in} read, {rows_out} scored")
    return {"rows_in": rows_in, "rows_out": rows_out, "errors": sum(c[2] for c in counts),
            "partitions": len(parts), "seconds": time.perf_counter() - start, "columns": plan.report()}
