"""Column mapping over HTTP: the mapping a batch request sends, the report headers a batch answer
carries, and ``POST /v1/score/batch/columns``, which says how a header would be read (the batch
page's mapping step calls it before any row is sent).

A request names columns with ``map=FIELD:COLUMN``, ``unit=FIELD:UNIT`` and ``ignore=COLUMN``
(each repeatable) or a ``mapping`` JSON object (query parameter or multipart field; the shape of
:mod:`riskservice.core.mapping`). The answer reports which column became which field (and unit) in
``X-Columns-Used`` and the columns passed through unread in ``X-Columns-Ignored`` (JSON, ASCII),
sent with the headers, before the first row.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request

from riskservice.api.jsonbody import json_body
from riskservice.core.errors import ValidationProblem
from riskservice.core.fields import FIELDS
from riskservice.core.header import plan_columns
from riskservice.core.mapping import Mapping, from_json_text, pairs, parse

bp = Blueprint("columns", __name__)
IGNORED_HEADER_BYTES = 4096     # the ignored list in a header is cut here (the count is always whole)


def request_mapping(form=None) -> Mapping:
    """The mapping of this request: the ``mapping`` object, then ``map``/``unit``/``ignore`` on top."""
    args = request.args
    mapping = Mapping()
    text = args.get("mapping") or (form.get("mapping") if form is not None else None)
    if text:
        mapping = from_json_text(text)
    if args.getlist("map"):
        mapping = mapping.merged(pairs(args.getlist("map"), ":"))
    if args.getlist("unit"):
        mapping = mapping.merged(pairs(args.getlist("unit"), ":", what="unit"))
    if args.getlist("ignore"):
        mapping = mapping.merged(Mapping(ignore=args.getlist("ignore")))
    return mapping


def add_report_headers(response, report: dict):
    """``X-Columns-Used``, ``X-Columns-Ignored`` and ``X-Columns-Ignored-Count`` on a batch answer."""
    response.headers["X-Columns-Used"] = json.dumps(report["used"], ensure_ascii=True, separators=(",", ":"))
    ignored = list(report["ignored"])
    text = json.dumps(ignored, ensure_ascii=True, separators=(",", ":"))
    while len(text) > IGNORED_HEADER_BYTES and ignored:
        ignored = ignored[: len(ignored) // 2]
        text = json.dumps([*ignored, f"... {len(report['ignored']) - len(ignored)} more"], ensure_ascii=True,
                          separators=(",", ":"))
    response.headers["X-Columns-Ignored"] = text
    response.headers["X-Columns-Ignored-Count"] = str(len(report["ignored"]))
    return response


@bp.post("/v1/score/batch/columns")
def preview_columns():
    """How these columns would be read: the report, the problems a batch would refuse with, and the
    fields (with their units) a column may be mapped to. Nothing is scored."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("columns"), list) \
            or not all(isinstance(c, str) for c in body["columns"]):
        raise ValidationProblem({"columns": ["Send {\"columns\": [header names], \"mapping\": {...}}."]})
    limit = int(current_app.config["BATCH_MAX_COLUMNS"])
    if len(body["columns"]) > limit:
        raise ValidationProblem({"columns": [f"{len(body['columns'])} columns exceed the limit of {limit}."]})
    mapping = parse(body.get("mapping") or {}).merged(request_mapping())
    kb = current_app.extensions["riskservice"].knowledge
    plan = plan_columns(body["columns"], kb, mapping)
    if len(set(body["columns"])) != len(body["columns"]):
        plan.problem("_header", "column names must be unique")
    quantities = kb.units["quantities"]
    fields = [{"name": f.name, "kind": f.kind, "required": f.required,
               "units": list(quantities[f.name]["units"]) if f.has_unit else []} for f in FIELDS]
    return jsonify({**plan.report(), "problems": plan.problems, "mapping": mapping.as_dict(), "fields": fields})
