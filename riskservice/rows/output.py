"""What a batch writes: the result columns, error rows in place of unreadable or failed
records, CSV lines and blocks (formula-like cells neutralised), JSON lines."""
from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from riskservice.core.render import ROW_COLUMNS, ROW_TYPES
from riskservice.csvio.safety import neutralise_table, neutralise_value
from riskservice.rows.blocks import ParsedBlock, log_failure

SHORT_DISCLAIMER = "Decision support for professionals; not a diagnosis. See the full disclaimer."
RESULT_COLUMNS = (*ROW_COLUMNS, "disclaimer")


def failed_table(table, plan, message) -> pa.Table:
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


def error_line(header, message, cells) -> list:
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


def format_pieces(pieces, header, csv_safe: bool, request_id=None) -> bytes:
    out = []
    for piece in pieces:
        if isinstance(piece, list):
            out.append(csv_line(piece, csv_safe))
            continue
        try:
            out.append(table_csv(piece, header.plan.passthrough if csv_safe else ()))
        except Exception as exc:  # noqa: BLE001 - keep every row
            parsed = ParsedBlock(piece, [], piece.num_rows, 0, 0)
            log_failure(exc, "formatting", parsed, request_id)
            line = error_line(header, "_row: the result could not be written (internal error)"
                               + (f"; request id {request_id}" if request_id else ""), None)
            out.append(csv_line(line, csv_safe) * piece.num_rows)
    return b"".join(out)


def csv_line(values, csv_safe: bool = True) -> bytes:
    buf = io.StringIO()
    if csv_safe:
        values = [neutralise_value(v) for v in values]
    # Python's writer quotes only the characters of its line terminator, so a bare CR in a cell
    # (a header name, say) would be written unquoted and read back as a line break.
    quoting = csv.QUOTE_ALL if any("\r" in str(v) for v in values) else csv.QUOTE_MINIMAL
    csv.writer(buf, lineterminator="\n", quoting=quoting).writerow(values)
    return buf.getvalue().encode("utf-8")


def table_csv(table: pa.Table, neutralise=()) -> bytes:
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


TRAILER_PREFIX = "#riskservice-end"


def csv_trailer(rows: int, scored: int, errors: int) -> bytes:
    """The CSV answer's last line: one field, so no data row can look like it (docs/csv.md)."""
    return f"{TRAILER_PREFIX} rows={rows} scored={scored} errors={errors}\n".encode("ascii")


def jsonl_summary(rows: int, scored: int, errors: int) -> bytes:
    """The NDJSON answer's last line: a summary object instead of a row (docs/csv.md)."""
    return json.dumps({"summary": {"rows": rows, "scored": scored, "errors": errors}}).encode("ascii") + b"\n"
