"""CSV and JSON-array batch I/O around the vectorised core (:mod:`riskservice.core.engine`).

Input is read block by block with pyarrow's streaming CSV reader and written back block by
block, so memory stays flat whatever the file size. Every input row produces exactly one
output row, in input order: rows the CSV parser cannot split (wrong number of fields) come
back with an error instead of disappearing.
"""
from __future__ import annotations

import csv
import io
import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from riskservice.core import header as core
from riskservice.core.engine import engine_for
from riskservice.core.errors import ValidationProblem
from riskservice.core.inputs import from_columns, from_records
from riskservice.core.render import ROW_COLUMNS, render_rows

BLOCK_SIZE = 1 << 22  # 4 MiB of CSV text per block (~35k rows)
SHORT_DISCLAIMER = "Decision support for professionals; not a diagnosis. See the full disclaimer."
RESULT_COLUMNS = (*ROW_COLUMNS, "disclaimer")


class HeaderProblem(ValidationProblem):
    """The columns are unusable (required column missing, misspelt field): 422 before scoring."""

    def __init__(self, errors):
        super().__init__(errors, title="Unusable CSV header")


@dataclass
class Stats:
    rows: int = 0
    scored: int = 0
    errors: int = 0
    bytes_read: int = 0
    extra: dict = field(default_factory=dict)


class BatchScorer:
    """Scores CSV streams and JSON arrays with one knowledge base and optional model."""

    def __init__(self, knowledge, model=None, audience: str = "clinician", require_approved: bool = False):
        self.knowledge = knowledge
        self.model = model
        self.audience = audience
        self.require_approved = require_approved
        self.engine = engine_for(knowledge, model)

    # ------------------------------------------------------------------ CSV
    def read_header(self, stream):
        """Read and check the header line; return (names, plan, header_bytes)."""
        line = stream.readline()
        if not line:
            raise HeaderProblem({"_file": ["The CSV is empty: a header row is required."]})
        if isinstance(line, str):
            line = line.encode("utf-8")
        text = line.decode("utf-8-sig", errors="replace")
        try:
            names = next(csv.reader([text]))
        except csv.Error as exc:  # e.g. a bare carriage return inside the header: a 422, not a 500
            raise HeaderProblem({"_header": [f"The header row is not readable CSV: {exc}."]}) from None
        plan = core.plan_columns(names)
        if len(set(names)) != len(names):
            plan.problems.setdefault("_header", []).append("column names must be unique")
        if plan.problems:
            raise HeaderProblem(plan.problems)
        return names, plan, len(line)

    def iter_csv(self, stream, stats: Stats | None = None, names=None, plan=None,
                 header: bool = True, line_offset: int = 0):
        """Yield the output CSV (bytes) block by block; the header line is read here
        unless the caller already did (``names``/``plan`` given). ``header=False`` and
        ``line_offset`` (data rows before this stream) serve the parallel CLI's segments.

        The input is cut into blocks at line ends (so a quoted cell must not contain a line
        break) and three stages overlap on threads (pyarrow releases the GIL): parsing the
        next block, scoring this one, and formatting the previous one as CSV.
        """
        stats = stats if stats is not None else Stats()
        if names is None:
            names, plan, consumed = self.read_header(stream)
            stats.bytes_read += consumed
        out_names = [*plan.passthrough, *RESULT_COLUMNS]
        if header:
            yield _csv_line(out_names)
        blocks = _line_blocks(stream, BLOCK_SIZE)
        lines_before = line_offset
        formatting = deque()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch") as pool:
            ahead = pool.submit(_parse_block, next(blocks, None), names)
            while True:
                parsed = ahead.result()
                if parsed is None:
                    break
                ahead = pool.submit(_parse_block, next(blocks, None), names)
                table, rejected, nlines = parsed
                scored = self.score_table(table, plan) if table.num_rows else None
                pieces = self._merge(scored, rejected, lines_before, out_names, stats)
                lines_before += nlines
                formatting.append(pool.submit(_format, pieces))
                while len(formatting) > 1:
                    yield formatting.popleft().result()
            while formatting:
                yield formatting.popleft().result()

    def _merge(self, table, rejected, lines_before, out_names, stats):
        """Interleave one block's scored rows with the rows the parser rejected, in line order."""
        pieces, emitted = [], 0
        n = 0 if table is None else table.num_rows
        for number, actual, expected in sorted(rejected):
            take = min(max(0, number - 1 - emitted - _rejected_before(rejected, number)), n - emitted)
            if take:
                pieces.append(table.slice(emitted, take))
                emitted += take
            pieces.append(_csv_line(_invalid_row(out_names, lines_before + number, actual, expected)))
            stats.rows += 1
            stats.errors += 1
        if table is not None and emitted < n:
            pieces.append(table.slice(emitted))
        if table is not None:
            stats.rows += n
            scored = table.column("error").null_count
            stats.scored += scored
            stats.errors += n - scored
        return pieces

    def score_table(self, record_batch, plan) -> pa.Table:
        n = record_batch.num_rows
        columns = {key: _single_chunk(record_batch.column(src)) for key, src in plan.fields.items()}
        out = self.score_columns(columns, n)
        arrays = [record_batch.column(name) for name in plan.passthrough]
        arrays += [out[name] for name in RESULT_COLUMNS]
        return pa.table(arrays, names=[*plan.passthrough, *RESULT_COLUMNS])

    def score_columns(self, columns: dict, n: int, decimal: str = ".") -> dict:
        """Result arrays (pyarrow) for ``n`` rows of text columns (field or unit key -> column)."""
        return self._render(from_columns(columns, n, self.engine.cx, decimal=decimal))

    def _render(self, parsed) -> dict:
        ev = self.engine.evaluate(parsed)
        out = render_rows(self.engine, ev, self.audience, require_approved=self.require_approved)
        out["disclaimer"] = pa.repeat(pa.scalar(SHORT_DISCLAIMER, pa.string()), parsed.n)
        return out

    # ------------------------------------------------------------------ JSON arrays
    def score_records(self, records: list) -> list:
        """Score a JSON array of objects; one result dict per record, in order. The records go
        through the same adapter as a single ``POST /v1/score`` body."""
        if not isinstance(records, list):
            raise ValidationProblem({"_body": ["Send a JSON array of patient objects."]})
        keys = set()
        for rec in records:
            if isinstance(rec, dict):
                keys.update(rec)
        plan = core.plan_columns(sorted(keys | {"age", "sex"}))
        if plan.problems:
            raise HeaderProblem(plan.problems)
        passthrough = set(plan.passthrough)
        cleaned = [{k: v for k, v in rec.items() if k not in passthrough} if isinstance(rec, dict) else rec
                   for rec in records]
        out = self._render(from_records(cleaned, self.engine.cx))
        lists = {name: out[name].to_pylist() for name in RESULT_COLUMNS}
        rows = []
        for i, rec in enumerate(records):
            row = {"row": i + 1}
            if isinstance(rec, dict):
                row.update({k: rec[k] for k in plan.passthrough if k in rec})
            row.update({name: lists[name][i] for name in RESULT_COLUMNS if name != "disclaimer"})
            rows.append(row)
        return rows


def _single_chunk(col):
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
    return col


def _invalid_row(out_names, number, actual, expected):
    row = [""] * len(out_names)
    where = f"line {number + 1}"
    row[out_names.index("error")] = (f"_row: {where} of the file has {actual} fields, the header has {expected}; "
                                     "the row could not be read")
    row[out_names.index("disclaimer")] = SHORT_DISCLAIMER
    return row


def _line_blocks(stream, size):
    """Chunks of about ``size`` bytes that end at a line end (the last may lack one)."""
    tail = b""
    while True:
        data = stream.read(size)
        if not data:
            if tail.strip():
                yield tail if tail.endswith(b"\n") else tail + b"\n"
            return
        data = tail + data
        cut = data.rfind(b"\n")
        if cut < 0:
            tail = data
            continue
        yield data[:cut + 1]
        tail = data[cut + 1:]


def _parse_block(block, names):
    """(table, rejected rows, line count) for one block of CSV text, or None at the end."""
    if block is None:
        return None
    rejected = []

    def on_invalid(row):
        rejected.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(block),
        read_options=pacsv.ReadOptions(column_names=names, block_size=len(block) + 1, use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    ).combine_chunks()
    return table, rejected, block.count(b"\n")


def _rejected_before(rejected, number):
    return sum(1 for r in rejected if r[0] < number)


def _format(pieces) -> bytes:
    return b"".join(p if isinstance(p, bytes) else _table_csv(p) for p in pieces)


def _csv_line(values) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")


def _table_csv(table: pa.Table) -> bytes:
    """CSV text for a block; floats are rounded to 6 decimals (JSON keeps full precision)."""
    table = pa.table([pc.round(c, 6) if pa.types.is_floating(c.type) else c for c in table.columns],
                     names=table.column_names)
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue().to_pybytes()


def records_to_jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
