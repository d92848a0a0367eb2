"""POST /v1/score/batch: CSV (body or multipart upload) or a JSON array, streamed back.

The upload is spooled to a temporary file while its rows are counted, so the row limit is
enforced (413) before anything is scored; the header is checked (422: column limit, unknown
or missing columns, unreadable dialect) and the answer is then streamed block by block, ending
with a trailer row (``#riskservice-end rows=N scored=K errors=E``; ``?trailer=false`` leaves it
out): an answer without it was cut. JSON arrays: riskservice/api/batchjson.py.
Dialect: ``?delimiter=`` (default: detected), ``?decimal=,``, the ``charset`` of the
Content-Type (or a byte-order mark), ``?csv_safe=false`` for machine consumers.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request, stream_with_context
from werkzeug.exceptions import RequestEntityTooLarge

from riskservice.api import accesslog, requestid
from riskservice.api.columns import add_report_headers, request_mapping
from riskservice.api.errors import UnsupportedType
from riskservice.api.metrics import record_batch_rows
from riskservice.api.spool import QuotaSpool
from riskservice.core.errors import ValidationProblem
from riskservice.core.narrative import AUDIENCES
from riskservice.csvio.dialect import CsvOptions, DialectError
from riskservice.csvio.encoding import UnknownEncoding, codec_for

bp = Blueprint("batch", __name__)


class TooManyRows(RequestEntityTooLarge):
    pass


def batch_scorer():
    """A BatchScorer for this request; ``?audience=patient`` gives plain mechanism labels.

    riskservice.rows (and pyarrow, ~0.1 s) is imported here, on the first batch, not at start-up."""
    from riskservice.rows.batch import BatchScorer
    scorer = current_app.extensions["riskservice"]
    audience = request.args.get("audience", "clinician")
    if audience not in AUDIENCES:
        raise ValidationProblem({"audience": [f"Must be one of: {', '.join(AUDIENCES)} (got {audience!r})."]},
                                title="Invalid query parameter")
    return BatchScorer(scorer.knowledge, scorer.model, audience=audience, require_approved=scorer.require_approved)


@bp.post("/v1/score/batch")
def score_batch():
    request.max_content_length = current_app.config["BATCH_MAX_BYTES"]
    mimetype = request.mimetype or ""
    if mimetype == "application/json" or mimetype.endswith("+json"):
        from riskservice.api import batchjson
        response, report = batchjson.answer(batch_scorer(), trailer_wanted(), TooManyRows, request_mapping())
        return _headers(response, current_app.extensions["riskservice"].knowledge, report)
    form = None
    if mimetype == "multipart/form-data":
        form = request.form
        upload = request.files.get("file") or next(iter(request.files.values()), None)
        if upload is None:
            from riskservice.api.errors import problem
            return problem(400, "Bad Request", "Multipart upload without a file part (name it 'file').")
        source, charset = upload.stream, upload.mimetype_params.get("charset")
    elif mimetype in ("text/csv", "application/csv", "text/plain", "text/tab-separated-values"):
        source, charset = request.stream, request.mimetype_params.get("charset")
    else:
        raise UnsupportedType("Send text/csv, a multipart upload of a CSV file, or a JSON array.")
    scorer = batch_scorer()
    options = csv_options(charset)
    trailer = trailer_wanted()   # every parameter is checked before the upload is spooled
    mapping = request_mapping(form)
    spooled = _spool(source, current_app.config["BATCH_MAX_ROWS"], int(current_app.config["BATCH_SPOOL_QUOTA"]))
    try:  # HeaderProblem -> 422 before any row is scored
        stream, header = scorer.open_csv(spooled, options, int(current_app.config["BATCH_MAX_COLUMNS"]), mapping)
    except Exception:
        spooled.close()
        raise
    from riskservice.rows.batch import Stats
    stats = Stats()
    rid = requestid.current()
    accesslog.stream_rows(lambda: stats.rows)

    def generate():
        try:
            yield from scorer.iter_csv(stream, stats=stats, header=header, options=options, request_id=rid)
            if trailer:   # the in-band end marker: without it, the answer was cut
                from riskservice.rows.output import csv_trailer
                yield csv_trailer(stats.rows, stats.scored, stats.errors)
        finally:
            spooled.close()
            record_batch_rows(stats.rows)

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.call_on_close(spooled.close)
    return _headers(response, scorer.knowledge, header.report())


def _headers(response, kb, report):
    response.headers["X-Disclaimer"] = kb.disclaimer
    response.headers["X-Ruleset-Version"] = kb.version
    response.headers["Cache-Control"] = "no-store"
    return add_report_headers(response, report)


def trailer_wanted() -> bool:
    """``?trailer=false`` leaves out the end marker (the CSV trailer row, the NDJSON summary line)."""
    value = request.args.get("trailer", "true")
    if value not in ("true", "false"):
        raise ValidationProblem({"trailer": ["Must be true or false."]}, title="Invalid query parameter")
    return value == "true"


def csv_options(charset) -> CsvOptions:
    """The dialect from the query string and the Content-Type charset (415 for an unknown charset)."""
    args = request.args
    try:
        codec_for(charset)
    except UnknownEncoding as exc:
        raise UnsupportedType(str(exc)) from None
    safe = args.get("csv_safe", "true").strip().lower()
    if safe not in ("true", "false", "1", "0", "yes", "no"):
        raise ValidationProblem({"csv_safe": ["Must be true or false."]}, title="Invalid query parameter")
    try:
        return CsvOptions.parse(args.get("delimiter"), args.get("decimal"), charset,
                                csv_safe=safe in ("true", "1", "yes"))
    except DialectError as exc:
        raise ValidationProblem({exc.field: [str(exc)]}, title="Invalid query parameter") from None


def _spool(source, max_rows, quota):
    """Copy the upload to a spooled temp file within the upload quota (507 beyond it or when the
    disk is full: riskservice/api/spool.py), counting lines; 413 past the row limit."""
    spooled = QuotaSpool(quota)
    lines, last = 0, b"\n"
    while True:
        chunk = source.read(1 << 20)
        if not chunk:
            break
        try:
            spooled.write(chunk)
        except BaseException:
            spooled.close()
            raise
        lines += chunk.count(b"\n")
        last = chunk[-1:]
        if lines - 1 > max_rows:
            spooled.close()
            raise TooManyRows(f"More than {max_rows} data rows; split the file or use the CLI "
                              "(riskservice score-csv), which has no row limit.")
    rows = lines - 1 + (last != b"\n")
    if rows > max_rows:
        spooled.close()
        raise TooManyRows(f"{rows} data rows exceed the limit of {max_rows}.")
    spooled.seek(0)
    return spooled
