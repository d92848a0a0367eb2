"""The OpenAPI paths: every route the app serves, each with its success and problem+json
error responses and examples. Kept apart from :mod:`riskservice.api.openapi` so that the
document-building and the per-route descriptions can be read separately."""
from __future__ import annotations

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
HEADERS = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
OPEN = []  # no security requirement: probes must work without a key
AUDIENCE = {"name": "audience", "in": "query", "required": False,
            "description": "Who reads the texts: clinician (default) or patient. Numbers are identical.",
            "schema": {"type": "string", "enum": ["clinician", "patient"], "default": "clinician"}}
TRAILER = {"name": "trailer", "in": "query", "required": False,
           "description": "true (default): the answer ends with its end marker, the CSV line "
                          "`#riskservice-end rows=N scored=K errors=E` or the NDJSON line "
                          "`{\"summary\": {\"rows\": N, \"scored\": K, \"errors\": E}}`; an answer without it "
                          "was cut short. false leaves it out.",
           "schema": {"type": "string", "enum": ["true", "false"], "default": "true"}}
VIEW = {"name": "view", "in": "query", "required": False,
        "description": "How much of the answer: summary (what leads, the measured HOMA-IR, points, band, both "
                       "probabilities or why each is withheld, flagged indices, top mechanisms, missing inputs, "
                       "disclaimer, versions; at most about 2 kB), standard (every "
                       "structured part, no narrative or reference list) or full (the default: everything).",
        "schema": {"type": "string", "enum": ["summary", "standard", "full"], "default": "full"}}

EXAMPLE_PATIENT = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "mvpa_minutes_per_week": 30,
                   "family_history_diabetes": "first_degree", "hs_crp": 4.1, "hs_crp_unit": "mg/L",
                   "medications": ["prednisolone"], "fasting": True,
                   "fasting_glucose": 104, "fasting_glucose_unit": "mg/dL",
                   "fasting_insulin": 14, "fasting_insulin_unit": "uU/mL", "triglycerides": 180, "hdl_cholesterol": 38}

_PROBLEMS = {
    400: ("about:blank", "Bad Request", "The body is not valid JSON: Expecting value: line 1 column 1 (char 0)", {}),
    401: ("/problems/unauthorized", "Unauthorized",
          "Send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.", {}),
    405: ("about:blank", "Method Not Allowed", "The method is not allowed for the requested URL.", {}),
    404: ("about:blank", "Not Found", "The requested URL was not found on the server.", {}),
    408: ("about:blank", "Request Timeout", "The request body did not arrive in time; send it in one go "
          "(the service waits a few seconds plus the time a slow link needs for the size).", {}),
    412: ("about:blank", "Precondition Failed", "the Patient resource was neither prefetched nor retrievable", {}),
    413: ("about:blank", "Request Entity Too Large",
          "The data value transmitted exceeds the capacity limit.", {}),
    415: ("about:blank", "Unsupported Media Type", "Send the patient as application/json.", {}),
    422: ("/problems/validation", "Invalid patient data", "2 problem(s) in 2 field(s); see 'errors'.",
          {"errors": {"age": ["15 years is outside the accepted range 18-120 years"],
                      "sex": ["Must be one of: female, male."]}}),
    503: ("/problems/unapproved-knowledge", "Knowledge not approved for use",
          "REQUIRE_APPROVED is on and this result used entries not approved by clinical review",
          {"unapproved_entries": {"factor_band:bmi/variant3/obese": "under_review"}}),
    507: ("about:blank", "Insufficient Storage", "The server has no room to hold this upload now (its disk or its "
          "upload quota is full); try again later or send a smaller file.", {}),
}


MAPPING_PARAMETERS = [
    {"name": "map", "in": "query", "required": False, "explode": True,
     "description": "FIELD:COLUMN, repeatable: read COLUMN as FIELD (e.g. map=sex:Gender). Without it a column is "
                    "read by its name or a listed synonym (Gender, HDL-C (mmol/L), LBXGLU; "
                    "riskservice/knowledge/input_synonyms.json); a unit written in the header sets the column's unit.",
     "schema": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_]+:.+$"}}},
    {"name": "unit", "in": "query", "required": False, "explode": True,
     "description": "FIELD:UNIT, repeatable: the unit of FIELD's column when its header does not say.",
     "schema": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9_]+:.+$"}}},
    {"name": "ignore", "in": "query", "required": False, "explode": True,
     "description": "COLUMN, repeatable: pass the column through unread although it looks like a field "
                    "(a look-alike such as Glucose, or a near-miss spelling, is otherwise a 422).",
     "schema": {"type": "array", "items": {"type": "string"}}},
    {"name": "mapping", "in": "query", "required": False,
     "description": "A mapping object as JSON: {\"columns\": {field: column or {\"column\", \"unit\"}}, "
                    "\"values\": {field: {cell text: value}}, \"ignore\": [column]} (also a multipart field).",
     "schema": {"type": "string"}},
]
REPORT_HEADERS = {
    "X-Columns-Used": {"description": "JSON array, one entry per column read: {column, field, by (name, synonym, "
                                      "NHANES, mapping), unit and unit_from for a field with several units, values "
                                      "(the number of mapped values)}. Sent before the first row.",
                       "schema": {"type": "string"}},
    "X-Columns-Ignored": {"description": "JSON array of the columns passed through unread (cut at 4 KiB, with "
                                         "\"... N more\").", "schema": {"type": "string"}},
    "X-Columns-Ignored-Count": {"description": "How many columns were passed through unread.",
                                "schema": {"type": "integer"}},
}


def problem(status: int, description: str, instance: str, example_override: dict | None = None) -> dict:
    """A problem+json response with a realistic example body."""
    type_, title, detail, extra = _PROBLEMS[status]
    example = {"type": type_, "title": title, "status": status, "detail": detail, "instance": instance,
               "request_id": "6f1c2a0e9b3d4e5f8a7b6c5d4e3f2a1b", **extra, **(example_override or {})}
    example = {k: v for k, v in example.items() if v is not None}  # None in an override drops a key
    return {"description": description, "headers": HEADERS,
            "content": {"application/problem+json": {"schema": PROBLEM_REF, "example": example}}}


def ok(description: str, media: str, schema: dict, example=None) -> dict:
    body = {"schema": schema}
    if example is not None:
        body["example"] = example
    return {"description": description, "headers": HEADERS, "content": {media: body}}


def _auth(path: str) -> dict:
    return {"401": problem(401, "An API key is configured and none (or a wrong one) was sent", path),
            "405": problem(405, "Method not allowed on this path", path)}


def paths(kb) -> dict:
    """path -> operations, for every route of the app (a test compares with app.url_map)."""
    text = {"type": "string"}
    return {
        "/v1/score": {"post": {
            "summary": "Score one patient", "operationId": "score", "parameters": [AUDIENCE, VIEW],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/PatientIn"}, "example": EXAMPLE_PATIENT}}},
            "responses": {
                "200": ok("Points, band, indices, mechanisms, model, missing, assumed, references, disclaimer "
                          "(view=full); without explanation and references (view=standard); or the summary",
                          "application/json", {"oneOf": [{"$ref": "#/components/schemas/ScoreOut"},
                                                         {"$ref": "#/components/schemas/ScoreStandardOut"},
                                                         {"$ref": "#/components/schemas/ScoreSummaryOut"}]}),
                "400": problem(400, "Malformed JSON, not UTF-8, or nested deeper than MAX_JSON_DEPTH", "/v1/score"),
                **_auth("/v1/score"),
                "408": problem(408, "The body did not arrive within the read deadline (slow client)", "/v1/score"),
                "413": problem(413, "Body larger than MAX_CONTENT_LENGTH", "/v1/score"),
                "415": problem(415, "Not application/json", "/v1/score"),
                "422": problem(422, "Invalid patient data, audience or view: every problem, keyed by field",
                               "/v1/score"),
                "503": problem(503, "REQUIRE_APPROVED is on and the result used knowledge entries not approved "
                                    "by clinical review", "/v1/score"),
            }}},
        "/v1/score/batch": {"post": {
            "summary": "Score many patients: CSV (body or multipart file) or a JSON array; streamed back",
            "operationId": "score_batch", "parameters": [AUDIENCE, TRAILER, *MAPPING_PARAMETERS],
            "requestBody": {"required": True, "content": {
                "text/csv": {"schema": text, "example": "age,sex,bmi\n52,male,31.2\n61,female,24.0\n"},
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "string", "format": "binary", "description": "A CSV file"},
                    "mapping": {"type": "string", "description": "A mapping object as JSON (see the mapping "
                                                                 "parameter)"}}}},
                "application/json": {"schema": {"type": "array", "items": {
                    "description": "A record shaped like PatientIn. Rows are checked one by one: an invalid "
                    "row (or an item that is not an object) gets its error in its own output row and never "
                    "stops the batch; unknown keys are passed through."}},
                                     "example": [EXAMPLE_PATIENT, {"age": 61, "sex": "female"}]},
            }},
            "responses": {
                "200": {"description": "One output row per input row, in order; a row that cannot be scored "
                                       "(in a JSON array also a record that is not acceptable JSON) carries its "
                                       "error instead of a score. CSV in, CSV out; JSON in, NDJSON out. Streamed; "
                                       "the last line is the end marker (see the trailer parameter). "
                                       "points, band and probability estimate insulin resistance (HOMA-IR above "
                                       "the ruleset's cut-off); dysglycaemia_probability is the second model's "
                                       "estimate (empty when the inputs already establish dysglycaemia); "
                                       "measured_homa_ir is a valid measured HOMA-IR (it then leads and "
                                       "probability is empty), homa_ir_status above/borderline/below (not_valid "
                                       "when given but not valid, the warnings say why), leads what leads.",
                        "headers": {**HEADERS, **REPORT_HEADERS},
                        "content": {"text/csv": {"schema": text},
                                    "application/x-ndjson": {"schema": text}}},
                "400": problem(400, "A JSON body that is not one array (brackets, strings) or nests deeper than "
                                    "MAX_JSON_DEPTH, or a multipart upload without a file", "/v1/score/batch"),
                **_auth("/v1/score/batch"),
                "408": problem(408, "The body did not arrive within the read deadline (slow client)",
                               "/v1/score/batch"),
                "413": problem(413, "More than BATCH_MAX_BYTES (a JSON array: BATCH_JSON_MAX_BYTES) or "
                                    "BATCH_MAX_ROWS", "/v1/score/batch",
                               {"title": "Request Entity Too Large",
                                "detail": "1000001 data rows exceed the limit of 1000000."}),
                "415": problem(415, "Neither CSV, multipart nor JSON", "/v1/score/batch",
                               {"detail": "Send text/csv, a multipart upload of a CSV file, or a JSON array."}),
                "422": problem(422, "Unusable CSV header (a required column missing, a column that looks like a "
                                    "field but is not used, two columns for one field, a unit the field does not "
                                    "have; for a JSON array: in its first block of records), a malformed mapping, "
                                    "or a bad audience, trailer or dialect parameter", "/v1/score/batch"),
                "507": problem(507, "No room to hold the upload now (BATCH_SPOOL_QUOTA or a full disk)",
                               "/v1/score/batch"),
            }}},
        "/v1/score/batch/columns": {"post": {
            "summary": "How a header would be read: which column becomes which field and unit, which are "
                       "ignored, and the problems a batch would refuse with; nothing is scored",
            "operationId": "preview_columns", "parameters": MAPPING_PARAMETERS,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["columns"], "properties": {
                    "columns": {"type": "array", "items": {"type": "string"}},
                    "mapping": {"type": "object", "description": "As the mapping parameter"}}},
                "example": {"columns": ["MRN", "Age", "Gender", "Fasting glucose (mmol/L)", "Glucose"],
                            "mapping": {"ignore": ["Glucose"]}}}}},
            "responses": {
                "200": ok("The report (used, ignored), the problems (empty: a batch would be accepted), the "
                          "mapping as read, and the fields a column may be mapped to", "application/json",
                          {"type": "object", "required": ["used", "ignored", "problems", "fields"], "properties": {
                              "used": {"type": "array", "items": {"type": "object"}},
                              "ignored": {"type": "array", "items": {"type": "string"}},
                              "problems": {"type": "object", "additionalProperties": {
                                  "type": "array", "items": {"type": "string"}}},
                              "mapping": {"type": "object"},
                              "fields": {"type": "array", "items": {"type": "object"}}}}),
                "400": problem(400, "Malformed JSON", "/v1/score/batch/columns"),
                **_auth("/v1/score/batch/columns"),
                "413": problem(413, "Body larger than MAX_CONTENT_LENGTH", "/v1/score/batch/columns"),
                "415": problem(415, "Not application/json", "/v1/score/batch/columns"),
                "422": problem(422, "Not {columns: [...]}, too many columns, or a malformed mapping",
                               "/v1/score/batch/columns"),
            }}},
        "/v1/knowledge": {"get": {
            "summary": "The rules, mechanisms, drug classes, indices and references, for clinical review",
            "operationId": "knowledge",
            "responses": {"200": ok("The knowledge base with review statuses", "application/json",
                                    {"type": "object"}),
                          **_auth("/v1/knowledge")}}},
        "/healthz": {"get": {
            "summary": "Liveness: the process answers", "operationId": "healthz", "security": OPEN,
            "responses": {"200": ok("Alive", "application/json", {"$ref": "#/components/schemas/Health"},
                                    {"status": "ok"}),
                          "405": problem(405, "Method not allowed on this path", "/healthz")}}},
        "/readyz": {"get": {
            "summary": "Readiness: knowledge and model loaded and verified, a probe patient scored",
            "operationId": "readyz", "security": OPEN,
            "responses": {
                "200": ok("Ready; the model may be deliberately off (model.state 'off')", "application/json",
                          {"$ref": "#/components/schemas/Ready"},
                          {"status": "ready", "knowledge": {"ruleset_version": kb.version,
                                                            "ruleset_sha256": kb.sha256, "state": "loaded"},
                           "model": {"state": "off",
                                     "note": "RISKSERVICE_MODEL=off: rules and indices only, model is null"}}),
                "405": problem(405, "Method not allowed on this path", "/readyz"),
                "503": problem(503, "Not ready; reasons lists why", "/readyz",
                               {"type": "/problems/not-ready", "title": "Not ready",
                                "detail": "the model is enabled but not loaded",
                                "reasons": ["the model is enabled but not loaded"], "unapproved_entries": None}),
            }}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics: requests and latency per route and status, batch rows, build info",
            "operationId": "metrics",
            "responses": {"200": ok("Prometheus text exposition format", "text/plain", text,
                                    "riskservice_http_requests_total{method=\"POST\",route=\"/v1/score\","
                                    "status=\"200\"} 42.0\n"),
                          **_auth("/metrics")}}},
        "/openapi.json": {"get": {
            "summary": "This OpenAPI document", "operationId": "openapi",
            "responses": {"200": ok("OpenAPI 3.1", "application/json", {"type": "object"}),
                          **_auth("/openapi.json")}}},
        "/docs": {"get": {
            "summary": "Human-readable API documentation (assets served locally)", "operationId": "docs",
            "responses": {"200": ok("HTML page", "text/html", text), **_auth("/docs")}}},
        "/docs/docs.js": {"get": {
            "summary": "Script of the docs page", "operationId": "docs_js",
            "responses": {"200": ok("JavaScript", "text/javascript", text), **_auth("/docs/docs.js")}}},
        "/docs/docs.css": {"get": {
            "summary": "Style of the docs page", "operationId": "docs_css",
            "responses": {"200": ok("CSS", "text/css", text), **_auth("/docs/docs.css")}}},
    }
