"""Blocks of CSV records to tables of text cells: every record read, or an error row in its place.

A fast block goes through pyarrow; one pyarrow refuses is read again exactly, record by
record; a block that even that cannot read becomes one error row per line. Failures are
logged with exception types and stack frames only (a message may quote a patient value)."""
from __future__ import annotations

import io
import logging
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from riskservice.core.fields import NUMERIC_FIELDS
from riskservice.csvio import records as csvrec

if TYPE_CHECKING:
    from riskservice.rows.batch import CsvHeader

BLOCK_SIZE = csvrec.BLOCK_SIZE  # 1 MiB; defined with the reader, so that the prescan child need not import this module
log = logging.getLogger("riskservice.batch")


@dataclass
class ParsedBlock:
    """One block's readable rows (a table of text cells) and its unreadable ones, by position."""

    table: pa.Table
    errors: list          # (position in the block, message, cells or None), ascending
    rows: int
    first_line: int
    last_line: int


class InTurn:
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


def single_chunk(col):
    if isinstance(col, pa.ChunkedArray):
        return col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
    return col


@dataclass
class Stopped:
    message: str


def guarded(blocks, request_id):
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
        yield Stopped(f"_file: reading stopped at {where} because of an internal error{rid}; "
                       "the rows from there on are not in this output")


def parse_block(block, header: CsvHeader):
    """A ParsedBlock for one FastBlock/SlowBlock, or None at the end.

    A fast block that pyarrow refuses (bytes that are not UTF-8) or splits differently from
    the line count is read again exactly, record by record; if even that fails (a bug), each
    of its lines becomes an error row rather than disappearing.
    """
    if block is None or isinstance(block, Stopped):
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


def decimal_points(table: pa.Table, plan) -> pa.Table:
    """Decimal comma -> point in the numeric field columns only (passthrough stays as sent)."""
    numeric = {plan.fields[name] for name in NUMERIC_FIELDS if name in plan.fields}
    columns = [pc.replace_substring(col, ",", ".") if name in numeric else col
               for name, col in zip(table.column_names, table.columns, strict=True)]
    return pa.table(columns, names=table.column_names)


def failure_message(parsed, request_id):
    rid = f"; request id {request_id}" if request_id else ""
    return (f"_row: lines {parsed.first_line}-{parsed.last_line} could not be scored because of an "
            f"internal error{rid}; nothing was scored for this row")


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
