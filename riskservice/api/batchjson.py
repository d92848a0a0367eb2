"""POST /v1/score/batch with a JSON array: spooled, checked, then scored and answered block by block.

The body (``BATCH_JSON_MAX_BYTES``, 413 beyond) is spooled within the upload quota
(riskservice/api/spool.py); its structure and element count are checked before anything is
answered (riskservice/rows/jsonarray.py: 400 for a body that is not one JSON array or nests too
deep, 413 past ``BATCH_MAX_ROWS``); then each block of ``BLOCK`` records is parsed with the
strict reader of single requests, scored and written as NDJSON lines, one per record in order,
and the answer ends with a summary line (``{"summary": {"rows": ..., "scored": ..., "errors":
...}}``; without it the answer was cut). Memory stays that of one block, whatever the array's size.
"""
from __future__ import annotations

import itertools

import orjson
from flask import Response, current_app, request, stream_with_context

from riskservice.api import accesslog
from riskservice.api.errors import BadJSON, UnsupportedType
from riskservice.api.jsonbody import JSON_TYPES, parse
from riskservice.api.metrics import record_batch_rows
from riskservice.api.spool import QuotaSpool

BLOCK = 2048


def answer(scorer, trailer: bool, too_many_rows, mapping=None):
    """(the streamed NDJSON answer for the request's JSON array, the column report for its headers).

    The first block is read before answering: its keys make the column plan the report headers
    describe, and a key problem there (a misspelt field, a bad mapping) is a 422 for the request,
    as for a CSV header. In later blocks a misspelt key is the error of the rows that use it."""
    from riskservice.rows import jsonarray
    if (request.mimetype or "").lower() not in JSON_TYPES:
        raise UnsupportedType("Send the JSON array as application/json.")
    config = current_app.config
    request.max_content_length = int(config["BATCH_JSON_MAX_BYTES"])
    depth = int(config["MAX_JSON_DEPTH"])
    spooled = QuotaSpool(int(config["BATCH_SPOOL_QUOTA"]))
    try:
        stream = request.stream
        while chunk := stream.read(1 << 20):
            spooled.write(chunk)
        elements = jsonarray.scan(spooled, depth, int(config["BATCH_MAX_ROWS"]))
    except jsonarray.TooManyElements as exc:
        spooled.close()
        raise too_many_rows(f"More than {exc.limit} records; split the array or use the CLI.") from None
    except jsonarray.ArrayError as exc:
        spooled.close()
        raise BadJSON(str(exc)) from None
    except BaseException:
        spooled.close()
        raise
    blocks = jsonarray.iter_blocks(spooled, elements, lambda raw: parse(raw, depth), BLOCK)
    try:
        first = next(blocks, [])
        plan = scorer.plan_records([r for r in first if not isinstance(r, jsonarray.Refused)], mapping)
    except BaseException:
        spooled.close()
        raise
    counts = {"rows": 0, "scored": 0, "errors": 0}
    accesslog.stream_rows(lambda: counts["rows"])

    def generate():
        try:
            for k, records in enumerate(itertools.chain([first], blocks) if first else ()):
                rows = scorer.score_records(records, mapping, plan=plan if k == 0 else None,
                                            first_row=counts["rows"] + 1)
                errors = sum(1 for r in rows if r.get("error"))
                counts["rows"] += len(rows)
                counts["errors"] += errors
                counts["scored"] += len(rows) - errors
                yield _jsonl(rows)
            if trailer:
                from riskservice.rows.output import jsonl_summary
                yield jsonl_summary(counts["rows"], counts["scored"], counts["errors"])
        finally:
            spooled.close()
            record_batch_rows(counts["rows"])

    response = Response(stream_with_context(generate()), mimetype="application/x-ndjson")
    response.call_on_close(spooled.close)
    return response, plan.report()


def _jsonl(rows) -> bytes:
    """NDJSON lines; orjson writes the same JSON as the standard library for these rows (no NaN:
    a value that is not a number is null), a tenth of the time."""
    return b"".join(orjson.dumps(r) + b"\n" for r in rows)


def is_json(mimetype: str) -> bool:
    return mimetype in JSON_TYPES or mimetype.endswith("+json")
