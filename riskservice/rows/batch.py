"""CSV and JSON-array batch I/O around the vectorised core (:mod:`riskservice.core.engine`).

Input is read block by block (:mod:`riskservice.csvio.records`) and written back block by
block, so memory stays flat whatever the file size. Every input record produces exactly one
output row, in input order: a record that cannot be read (wrong number of fields, a broken
quote, bytes that are not text) comes back with an error instead of disappearing, and a
block whose scoring fails comes back as error rows while the stream goes on.
"""
from __future__ import annotations

import csv
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from riskservice.core import header as core
from riskservice.core.engine import engine_for
from riskservice.core.errors import ValidationProblem
from riskservice.core.inputs import from_columns, from_records
from riskservice.core.mapping import Mapping
from riskservice.core.render import render_rows
from riskservice.csvio import records as csvrec
from riskservice.csvio.dialect import CsvOptions, delimiter_hint, detect_delimiter
from riskservice.csvio.encoding import open_input
from riskservice.rows import blocks
from riskservice.rows.blocks import (
    InTurn,
    ParsedBlock,
    Stopped,
    decimal_points,
    failure_message,
    guarded,
    log_failure,
    parse_block,
    single_chunk,
)
from riskservice.rows.output import RESULT_COLUMNS, SHORT_DISCLAIMER, csv_line, error_line, failed_table, format_pieces

MAX_HEADER_BYTES = 1 << 20
DEFAULT_OPTIONS = CsvOptions()


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

    def report(self) -> dict:
        """Which column became which field (and unit), and which columns were ignored."""
        return self.plan.report()


class BatchScorer:
    """Scores CSV streams and JSON arrays with one knowledge base and optional model."""

    def __init__(self, knowledge, model=None, audience: str = "clinician", require_approved: bool = False):
        self.knowledge = knowledge
        self.model = model
        self.audience = audience
        self.require_approved = require_approved
        self.engine = engine_for(knowledge, model)

    # ------------------------------------------------------------------ CSV
    def open_csv(self, raw, options: CsvOptions = DEFAULT_OPTIONS, max_columns: int | None = None,
                 mapping: Mapping | None = None):
        """(UTF-8 stream positioned after the header, CsvHeader) for a raw byte stream."""
        stream, _ = open_input(raw, options.encoding)
        return stream, self.read_header(stream, options, max_columns, mapping)

    def read_header(self, stream, options: CsvOptions = DEFAULT_OPTIONS, max_columns: int | None = None,
                    mapping: Mapping | None = None) -> CsvHeader:
        """Read and check the header line (UTF-8 bytes) under the synonyms and ``mapping``;
        HeaderProblem (422) when unusable.

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
        plan = core.plan_columns(names, self.knowledge, mapping)
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
                 request_id: str | None = None, max_columns: int | None = None, overlap: bool = True,
                 mapping: Mapping | None = None):
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
            stream, header = self.open_csv(stream, options, max_columns, mapping)
        if write_header:
            yield csv_line(header.out_names, options.csv_safe)
        pending = guarded(csvrec.split_blocks(stream, header.delimiter, blocks.BLOCK_SIZE, first_line), request_id)
        formatting = deque()
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="batch") if overlap else InTurn() as pool:
            ahead = pool.submit(parse_block, next(pending, None), header)
            while True:
                parsed = ahead.result()
                if parsed is None:
                    break
                if isinstance(parsed, Stopped):
                    formatting.append(pool.submit(format_pieces, [error_line(header, parsed.message, None)], header,
                                                  options.csv_safe, request_id))
                    stats.rows += 1
                    stats.errors += 1
                    break
                ahead = pool.submit(parse_block, next(pending, None), header)
                pieces = self._score_block(parsed, header, options, request_id, stats)
                formatting.append(pool.submit(format_pieces, pieces, header, options.csv_safe, request_id))
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
                scored = self.score_table(decimal_points(table, plan) if options.decimal == "," else table, plan)
            except Exception as exc:  # noqa: BLE001 - isolate the block, never end the stream
                log_failure(exc, "scoring", parsed, request_id)
                scored = failed_table(table, plan, failure_message(parsed, request_id))
        pieces, emitted = [], 0
        n = 0 if scored is None else scored.num_rows
        for k, (position, message, cells) in enumerate(parsed.errors):
            take = position - k - emitted  # readable rows between the previous error and this one
            if take > 0:
                pieces.append(scored.slice(emitted, take))
                emitted += take
            pieces.append(error_line(header, message, cells))
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
        columns = {key: single_chunk(record_batch.column(src)) for key, src in plan.fields.items()}
        out = self.score_columns(columns, n, plan)
        arrays = [record_batch.column(name) for name in plan.passthrough]
        arrays += [out[name] for name in RESULT_COLUMNS]
        return pa.table(arrays, names=[*plan.passthrough, *RESULT_COLUMNS])

    def score_columns(self, columns: dict, n: int, plan: core.ColumnPlan | None = None) -> dict:
        """Result arrays (pyarrow) for ``n`` rows of text columns (field or unit key -> column),
        with the units and value maps of the column plan."""
        units, values = (plan.units, plan.values) if plan is not None else ({}, {})
        return self._render(from_columns(columns, n, self.engine.cx, units=units, values=values))

    def _render(self, parsed) -> dict:
        ev = self.engine.evaluate(parsed)
        out = render_rows(self.engine, ev, self.audience, require_approved=self.require_approved)
        out["disclaimer"] = pa.repeat(pa.scalar(SHORT_DISCLAIMER, pa.string()), parsed.n)
        return out

    # ------------------------------------------------------------------ JSON arrays
    def plan_records(self, records: list, mapping: Mapping | None = None) -> core.ColumnPlan:
        """The column plan of a JSON array's keys (in order of first use); HeaderProblem when unusable.
        A required field missing is each record's own error, as in a single object."""
        if not isinstance(records, list):
            raise ValidationProblem({"_body": ["Send a JSON array of patient objects."]})
        keys = {}
        for rec in records:
            if isinstance(rec, dict):
                keys.update(dict.fromkeys(rec))
        plan = core.plan_columns(list(keys), self.knowledge, mapping, require=False)
        if plan.problems:
            raise HeaderProblem(plan.problems, title="Unusable keys")
        return plan

    def _plan_and_misspelt(self, records: list, mapping: Mapping | None):
        """(plan, {key: messages}): keys that look like misspelt fields are left out of the plan and
        returned, so the records using them can carry the error; any other problem (of the
        request's mapping) is a HeaderProblem for the whole request."""
        keys = {}
        for rec in records:
            if isinstance(rec, dict):
                keys.update(dict.fromkeys(rec))
        plan = core.plan_columns(list(keys), self.knowledge, mapping, require=False)
        misspelt = {}
        if plan.problems:
            misspelt = {k: msgs for k, msgs in plan.problems.items() if k in keys}
            if misspelt:
                plan = core.plan_columns([k for k in keys if k not in misspelt], self.knowledge, mapping,
                                         require=False)
            if plan.problems:
                raise HeaderProblem(plan.problems, title="Unusable keys")
        return plan, misspelt

    def score_records(self, records: list, mapping: Mapping | None = None, plan=None, first_row: int = 1) -> list:
        """Score a JSON array of objects (or one block of it: ``first_row`` numbers its first record);
        one result dict per record, in order. The records go through the same adapter as a single
        ``POST /v1/score`` body, their keys read as columns. A record the JSON reader refused (a
        :class:`~riskservice.rows.jsonarray.Refused`) is that row's error, and so is a key that looks
        like a field but is not used (the error of the records that use it); a faulty mapping is a
        HeaderProblem for the whole array. (The HTTP adapter plans its first block with
        :meth:`plan_records`, so there a look-alike key is a 422, as a CSV header's would be.)"""
        if not isinstance(records, list):
            raise ValidationProblem({"_body": ["Send a JSON array of patient objects."]})
        from riskservice.rows.jsonarray import Refused
        refused = {i: "_row: this record is not acceptable JSON: " + _reason(rec.reason)
                   for i, rec in enumerate(records) if isinstance(rec, Refused)}
        misspelt = {}
        if plan is None:
            plan, misspelt = self._plan_and_misspelt(records, mapping)
        for i, rec in enumerate(records):
            if misspelt and isinstance(rec, dict) and i not in refused:
                hits = [f"{k}: {m}" for k in rec if k in misspelt for m in misspelt[k]]
                if hits:
                    refused[i] = "; ".join(hits)
        rename = {column: key for key, column in plan.fields.items()}
        cleaned = [None if i in refused else
                   {rename[k]: v for k, v in rec.items() if k in rename} if isinstance(rec, dict) else rec
                   for i, rec in enumerate(records)]
        out = self._render(from_records(cleaned, self.engine.cx, units=plan.units, values=plan.values))
        lists = {name: out[name].to_pylist() for name in RESULT_COLUMNS}
        rows = []
        for i, rec in enumerate(records):
            row = {"row": first_row + i}
            if i in refused:
                row.update({name: None for name in RESULT_COLUMNS if name != "disclaimer"})
                row["error"] = refused[i]
                rows.append(row)
                continue
            if isinstance(rec, dict):
                row.update({k: rec[k] for k in plan.passthrough if k in rec})
            row.update({name: lists[name][i] for name in RESULT_COLUMNS if name != "disclaimer"})
            rows.append(row)
        return rows


def _reason(text: str) -> str:
    """The strict reader's words without its "The body is ..." opening (here it is one record)."""
    return text.removeprefix("The body is not acceptable JSON: ").removeprefix("The body is not valid JSON: ")
