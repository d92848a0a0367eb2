"""CSV and JSON-array batch I/O around the vectorised core (:mod:`riskservice.core.engine`).

Input is read block by block (:mod:`riskservice.csvio.records`) and written back block by
block, so memory stays flat whatever the file size. Every input record produces exactly one
output row, in input order: a record that cannot be read (wrong number of fields, a broken
quote, bytes that are not text) comes back with an error instead of disappearing, and a
block whose scoring fails comes back as error rows while the stream goes on.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import traceback
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from riskservice.core import header as core
from riskservice.core.engine import engine_for
from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import NUMERIC_FIELDS
from riskservice.core.inputs import from_columns, from_records
from riskservice.core.render import ROW_COLUMNS, ROW_TYPES, render_rows
from riskservice.csvio import records as csvrec
from riskservice.csvio.dialect import CsvOptions, delimiter_hint, detect_delimiter
from riskservice.csvio.encoding import open_input
from riskservice.csvio.safety import neutralise_table, neutralise_value

BLOCK_SIZE = csvrec.BLOCK_SIZE  # 1 MiB; defined with the reader, so that the prescan child need not import this module
MAX_HEADER_BYTES = 1 << 20
SHORT_DISCLAIMER = "Decision support for professionals; not a diagnosis. See the full disclaimer."
RESULT_COLUMNS = (*ROW_COLUMNS, "disclaimer")
DEFAULT_OPTIONS = CsvOptions()
log = logging.getLogger("riskservice.batch")


class HeaderProblem(ValidationProblem):
    """The columns are unusable (required column missing, misspelt field): 422 before scoring."""

    def __init__(self, errors, title="Unusable CSV header"):
        super().__init__(errors, title=title)


@dataclass
class Stats:
    rows: int = 0
    scored: int = 0
    errors: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class CsvHeader:
    """The checked header of one CSV: its names, how they map to fields, its delimiter."""

    names: list
    plan: core.ColumnPlan
    delimiter: str

    @property
    def out_names(self):
        return [*self.plan.passthrough, *RESULT_COLUMNS]


@dataclass
class ParsedBlock:
    """One block's readable rows (a table of text cells) and its unreadable ones, by position."""

    table: pa.Table
    errors: list          # (position in the block, message, cells or None), ascending
    rows: int
    first_line: int
    last_line: int


class BatchScorer:
    """Scores CSV streams and JSON arrays with one knowledge base and optional model."""

    def __init__(self, knowledge, model=None, audience: str = "clinician", require_approved: bool = False):
        self.knowledge = knowledge
        self.model = model
        self.audience = audience
        self.require_approved = require_approved
        self.engine = engine_for(knowledge, model)

    # ------------------------------------------------------------------ CSV
    def open_csv(self, raw, options: CsvOptions = DEFAULT_OPTIONS, max_columns: int | None = None):
        """(UTF-8 stream positioned after the header, CsvHeader) for a raw byte stream."""
        stream, _ = open_input(raw, options.encoding)
        return stream, self.read_header(stream, options, max_columns)

    def read_header(self, stream, options: CsvOptions = DEFAULT_OPTIONS, max_columns: int | None = None) -> CsvHeader:
        """Read and check the header line (UTF-8 bytes); HeaderProblem (422) when unusable.

        The column count is checked before the names are matched against the fields, so a
        file with 100,000 columns is refused at once.
        """
        line = stream.readline(MAX_HEADER_BYTES + 1)
        if not line:
            raise HeaderProblem({"_file": ["The CSV is empty: a header row is required."]})
        if isinstance(line, str):
            line = line.encode("utf-8")
        if len(line) > MAX_HEADER_BYTES and not line.endswith(b"\n"):
            raise HeaderProblem({"_header": [f"The header row is longer than {MAX_HEADER_BYTES >> 20} MiB."]},
                                title="Too many columns")
        text = line.decode("utf-8-sig", errors="replace").rstrip("\r\n")
        delimiter = options.delimiter or detect_delimiter(text)
        try:
            names = next(csv.reader([text], delimiter=delimiter, strict=True), [])
        except csv.Error as exc:  # e.g. a bare carriage return inside the header: a 422, not a 500
            raise HeaderProblem({"_header": [f"The header row is not readable CSV: {exc}."]}) from None
        if max_columns is not None and len(names) > max_columns:
            raise HeaderProblem({"_header": [f"{len(names)} columns exceed the limit of {max_columns} "
                                             "(BATCH_MAX_COLUMNS)."]}, title="Too many columns")
        plan = core.plan_columns(names)
        if len(set(names)) != len(names):
            plan.problems.setdefault("_header", []).append("column names must be unique")
        hint = delimiter_hint(names, delimiter)
        if hint:
            plan.problems = {"_header": [hint]}
        if plan.problems:
            raise HeaderProblem(plan.problems)
        return CsvHeader(names, plan, delimiter)

    def iter_csv(self, stream, stats: Stats | None = None, header: CsvHeader | None = None,
                 write_header: bool = True, first_line: int = 2, options: CsvOptions = DEFAULT_OPTIONS,
                 request_id: str | None = None, max_columns: int | None = None, overlap: bool = True):
        """Yield the output CSV (bytes) block by block.

        ``stream`` is raw bytes, opened and its header read here, unless ``header`` is given
        (then ``stream`` is what :meth:`open_csv` returned). ``write_header=False`` and
        ``first_line`` (the physical line number of the stream's first line) serve the
        parallel CLI's segments. With ``overlap``, three stages overlap on threads (pyarrow
        releases the GIL): parsing the next block, scoring this one, formatting the previous
        one; a process among as many as there are cores gains nothing from that and runs
        them in turn, with one block in memory instead of three.
        """
        stats = stats if stats is not None else Stats()
        if header is None:
            stream, header = self.open_csv(stream, options, max_columns)
        if write_header:
            yield _csv_line(header.out_names, options.csv_safe)
        blocks = _guarded(csvrec.split_blocks(stream, header.delimiter, BLOCK_SIZE, first_line), request_id)
        formatting = deque()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch") if overlap else _InTurn() as pool:
            ahead = pool.submit(_parse_block, next(blocks, None), header)
            while True:
                parsed = ahead.result()
                if parsed is None:
                    break
                if isinstance(parsed, _Stopped):
                    formatting.append(pool.submit(_format, [_error_line(header, parsed.message, None)], header,
                                                  options.csv_safe, request_id))
                    stats.rows += 1
                    stats.errors += 1
                    break
                ahead = pool.submit(_parse_block, next(blocks, None), header)
                pieces = self._score_block(parsed, header, options, request_id, stats)
                formatting.append(pool.submit(_format, pieces, header, options.csv_safe, request_id))
                while len(formatting) > 1:
                    yield formatting.popleft().result()
            while formatting:
                yield formatting.popleft().result()

    def _score_block(self, parsed: ParsedBlock, header, options, request_id, stats):
        """Score one block's readable rows and interleave its unreadable ones, in input order.

        Any exception while scoring turns this block's rows into error rows (logged with its
        type and stack only); the stream goes on with the next block.
        """
        table, plan = parsed.table, header.plan
        scored = None
        if table.num_rows:
            try:
                scored = self.score_table(_decimal_points(table, plan) if options.decimal == "," else table, plan)
            except Exception as exc:  # noqa: BLE001 - isolate the block, never end the stream
                log_failure(exc, "scoring", parsed, request_id)
                scored = _failed_table(table, plan, _failure_message(parsed, request_id))
        pieces, emitted = [], 0
        n = 0 if scored is None else scored.num_rows
        for k, (position, message, cells) in enumerate(parsed.errors):
            take = position - k - emitted  # readable rows between the previous error and this one
            if take > 0:
                pieces.append(scored.slice(emitted, take))
                emitted += take
            pieces.append(_error_line(header, message, cells))
            stats.rows += 1
            stats.errors += 1
        if scored is not None and emitted < n:
            pieces.append(scored.slice(emitted))
        if scored is not None:
            ok = scored.column("error").null_count
            stats.rows += n
            stats.scored += ok
            stats.errors += n - ok
        return pieces

    def score_table(self, record_batch, plan) -> pa.Table:
        n = record_batch.num_rows
        columns = {key: _single_chunk(record_batch.column(src)) for key, src in plan.fields.items()}
        out = self.score_columns(columns, n)
        arrays = [record_batch.column(name) for name in plan.passthrough]
        arrays += [out[name] for name in RESULT_COLUMNS]
        return pa.table(arrays, names=[*plan.passthrough, *RESULT_COLUMNS])

    def score_columns(self, columns: dict, n: int) -> dict:
        """Result arrays (pyarrow) for ``n`` rows of text columns (field or unit key -> column)."""
        return self._render(from_columns(columns, n, self.engine.cx))

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


class _InTurn:
    """The executor interface, running each call at once in the caller's thread."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        return _Done(fn(*args))


@dataclass
class _Done:
    value: object

    def result(self):
        return self.value


def _single_chunk(col):
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
    return col


@dataclass
class _Stopped:
    message: str


def _guarded(blocks, request_id):
    """The block reader, but a bug in it ends the CSV with an explicit error row (logged
    without values) instead of a body cut short."""
    line = None
    try:
        for block in blocks:
            line = block.first_line + block.lines
            yield block
    except Exception as exc:  # noqa: BLE001
        where = f"line {line}" if line else "the first data line"
        log_failure(exc, "reading", ParsedBlock(None, [], 0, line or 2, line or 2), request_id)
        rid = f"; request id {request_id}" if request_id else ""
        yield _Stopped(f"_file: reading stopped at {where} because of an internal error{rid}; "
                       "the rows from there on are not in this output")


def _parse_block(block, header: CsvHeader):
    """A ParsedBlock for one FastBlock/SlowBlock, or None at the end.

    A fast block that pyarrow refuses (bytes that are not UTF-8) or splits differently from
    the line count is read again exactly, record by record; if even that fails (a bug), each
    of its lines becomes an error row rather than disappearing.
    """
    if block is None or isinstance(block, _Stopped):
        return block
    last = block.first_line + block.lines - 1
    if isinstance(block, csvrec.FastBlock):
        try:
            parsed = _fast_parse(block, header)
            if parsed is not None:
                return parsed
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, UnicodeError):
            pass   # pyarrow refused the block: read it again exactly, below
        try:
            block, _, _ = csvrec.read_exact(block.data, io.BytesIO(), header.delimiter, block.first_line,
                                         True, len(block.data), BLOCK_SIZE)
        except Exception as exc:  # noqa: BLE001 - keep every row
            return _unreadable(block, header, exc)
    try:
        return _slow_parse(block, header, last)
    except Exception as exc:  # noqa: BLE001 - keep every row
        return _unreadable(block, header, exc)


def _fast_parse(block, header):
    names = header.names
    rejected = []

    def on_invalid(row):
        rejected.append((row.number, row.actual_columns, row.expected_columns))
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(block.data),
        read_options=pacsv.ReadOptions(column_names=names, block_size=len(block.data) + 1, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=header.delimiter, invalid_row_handler=on_invalid,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False,
                                             # ASCII is valid UTF-8: skip pyarrow's second pass (~8% of the parse)
                                             check_utf8=not block.data.isascii()),
    ).combine_chunks()
    if table.num_rows + len(rejected) != block.lines or any(r[0] is None for r in rejected):
        return None
    errors = [(number - 1, _field_count_message(block.first_line + number - 1, actual, expected), None)
              for number, actual, expected in sorted(rejected)]
    return ParsedBlock(table, errors, block.lines, block.first_line, block.first_line + block.lines - 1)


def _slow_parse(block, header, last):
    names, width = header.names, len(header.names)
    good, errors = [], []
    for position, record in enumerate(block.records):
        if record.error is not None:
            errors.append((position, "_row: " + record.error, record.fields))
        elif not record.fields:  # a blank line: empty cells, as pyarrow reads it on the fast path
            good.append([""] * width)
        elif len(record.fields) != width:
            errors.append((position, _field_count_message(record.line, max(1, len(record.fields)), width), None))
        else:
            good.append(record.fields)
    columns = [pa.array([row[j] for row in good], type=pa.string()) for j in range(width)]
    return ParsedBlock(pa.table(columns, names=names), errors, len(block.records), block.first_line, last)


def _unreadable(block, header, exc):
    """Every line of a block that could not be parsed at all, as an error row."""
    first = block.first_line
    parsed = ParsedBlock(pa.table([pa.array([], pa.string())] * len(header.names), names=header.names),
                         [], block.lines, first, first + block.lines - 1)
    log_failure(exc, "reading", parsed, None)
    parsed.errors = [(k, f"_row: line {first + k} could not be read (internal error)", None)
                     for k in range(block.lines)]
    return parsed


def _field_count_message(line, actual, expected):
    return (f"_row: line {line} of the file has {actual} fields, the header has {expected}; "
            "the row could not be read")


def _decimal_points(table: pa.Table, plan) -> pa.Table:
    """Decimal comma -> point in the numeric field columns only (passthrough stays as sent)."""
    numeric = {plan.fields[name] for name in NUMERIC_FIELDS if name in plan.fields}
    columns = [pc.replace_substring(col, ",", ".") if name in numeric else col
               for name, col in zip(table.column_names, table.columns, strict=True)]
    return pa.table(columns, names=table.column_names)


def _failure_message(parsed, request_id):
    rid = f"; request id {request_id}" if request_id else ""
    return (f"_row: lines {parsed.first_line}-{parsed.last_line} could not be scored because of an "
            f"internal error{rid}; nothing was scored for this row")


def _failed_table(table, plan, message) -> pa.Table:
    """The block's rows with their passthrough cells, empty results and the failure as error."""
    n = table.num_rows
    empty = ROW_TYPES
    arrays = [table.column(name) for name in plan.passthrough]
    for name in RESULT_COLUMNS:
        if name == "error":
            arrays.append(pa.repeat(pa.scalar(message, pa.string()), n))
        elif name == "disclaimer":
            arrays.append(pa.repeat(pa.scalar(SHORT_DISCLAIMER, pa.string()), n))
        else:
            arrays.append(pa.nulls(n, type=empty.get(name, pa.string())))
    return pa.table(arrays, names=[*plan.passthrough, *RESULT_COLUMNS])


def log_failure(exc: BaseException, stage: str, parsed, request_id):
    """Log a block failure with exception types and stack frames only: an exception's
    message may quote a cell (a patient value), so it is never written."""
    log.error("batch block failed while %s lines %d-%d: %s", stage, parsed.first_line, parsed.last_line,
              scrubbed_traceback(exc), extra={"request_id": request_id} if request_id else {})


def scrubbed_traceback(exc: BaseException) -> str:
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        frames = traceback.extract_tb(exc.__traceback__)
        stack = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
        parts.append(f"{type(exc).__module__}.{type(exc).__qualname__} at {stack or '?'}")
        exc = exc.__cause__ or exc.__context__
    return " | caused by ".join(parts)


def _error_line(header, message, cells) -> list:
    """An output row (Python list) for a record that could not be scored; passthrough cells
    are kept when the record was readable enough to have them."""
    out_names = header.out_names
    row = [""] * len(out_names)
    if cells is not None and len(cells) == len(header.names):
        for k, name in enumerate(header.plan.passthrough):
            row[k] = cells[header.names.index(name)]
    row[out_names.index("error")] = message
    row[out_names.index("disclaimer")] = SHORT_DISCLAIMER
    return row


def _format(pieces, header, csv_safe: bool, request_id=None) -> bytes:
    out = []
    for piece in pieces:
        if isinstance(piece, list):
            out.append(_csv_line(piece, csv_safe))
            continue
        try:
            out.append(_table_csv(piece, header.plan.passthrough if csv_safe else ()))
        except Exception as exc:  # noqa: BLE001 - keep every row
            parsed = ParsedBlock(piece, [], piece.num_rows, 0, 0)
            log_failure(exc, "formatting", parsed, request_id)
            line = _error_line(header, "_row: the result could not be written (internal error)"
                               + (f"; request id {request_id}" if request_id else ""), None)
            out.append(_csv_line(line, csv_safe) * piece.num_rows)
    return b"".join(out)


def _csv_line(values, csv_safe: bool = True) -> bytes:
    buf = io.StringIO()
    if csv_safe:
        values = [neutralise_value(v) for v in values]
    # Python's writer quotes only the characters of its line terminator, so a bare CR in a cell
    # (a header name, say) would be written unquoted and read back as a line break.
    quoting = csv.QUOTE_ALL if any("\r" in str(v) for v in values) else csv.QUOTE_MINIMAL
    csv.writer(buf, lineterminator="\n", quoting=quoting).writerow(values)
    return buf.getvalue().encode("utf-8")


def _table_csv(table: pa.Table, neutralise=()) -> bytes:
    """CSV text for a block; floats are rounded to 6 decimals (JSON keeps full precision);
    formula-like cells of the ``neutralise`` columns get a leading apostrophe."""
    table = pa.table([pc.round(c, 6) if pa.types.is_floating(c.type) else c for c in table.columns],
                     names=table.column_names)
    if neutralise:
        table = neutralise_table(table, set(neutralise))
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return sink.getvalue().to_pybytes()

def records_to_jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
