"""Publish the contract: JSON Schemas and the OpenAPI document, generated from the
marshmallow schemas so that the files in ``schemas/`` cannot drift from the code
(``riskservice export-schemas schemas/`` rewrites them; a test fails when they are stale)."""
from __future__ import annotations

import json
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter

from riskservice import __version__
from riskservice.core.knowledge import SCHEMA_FILE, default_dir
from riskservice.core.schema import build_patient_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _inline_converter():
    spec = APISpec("riskservice", __version__, "3.1.0", plugins=[MarshmallowPlugin()])
    return OpenAPIConverter(openapi_version="3.1.0", schema_name_resolver=lambda s: None, spec=spec)


def json_schemas(kb) -> dict:
    """name -> JSON Schema document, for every file under schemas/ except openapi.json."""
    from riskservice.api.openapi.responses import ProblemOut, ScoreOut, ScoreSummaryOut
    conv = _inline_converter()
    docs = {}
    for name, schema, title in (
        ("request", build_patient_schema(kb)(), "POST /v1/score request: one patient's flat risk-factor record"),
        ("response", ScoreOut(), "POST /v1/score response"),
        ("response-summary", ScoreSummaryOut(), "POST /v1/score?view=summary response"),
        ("error", ProblemOut(), "RFC 9457 problem details returned for every error"),
    ):
        body = conv.schema2jsonschema(schema)
        docs[f"{name}.schema.json"] = {"$schema": DIALECT, "title": title, **body}
    docs["knowledge.schema.json"] = json.loads((default_dir() / SCHEMA_FILE).read_text())
    return docs


def openapi(kb) -> dict:
    """The OpenAPI 3.1 document for every route the service serves."""
    from riskservice.api.openapi.paths import paths
    from riskservice.api.openapi.responses import (
        HealthOut,
        ProblemOut,
        ReadyOut,
        ScoreOut,
        ScoreStandardOut,
        ScoreSummaryOut,
    )
    spec = APISpec(
        title="riskservice", version=__version__, openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Transparent insulin-resistance risk-factor scoring. " + kb.disclaimer
              + " Every error is RFC 9457 application/problem+json. API keys are optional: when the "
                "service is configured with RISKSERVICE_API_KEYS or RISKSERVICE_API_KEYS_FILE, every "
                "operation but /healthz and /readyz needs one (bearer or X-API-Key); otherwise none does."},
    )
    spec.components.schema("PatientIn", schema=build_patient_schema(kb))
    spec.components.schema("ScoreOut", schema=ScoreOut)
    spec.components.schema("ScoreStandardOut", schema=ScoreStandardOut)
    spec.components.schema("ScoreSummaryOut", schema=ScoreSummaryOut)
    spec.components.schema("Problem", schema=ProblemOut)
    spec.components.schema("Ready", schema=ReadyOut)
    spec.components.schema("Health", schema=HealthOut)
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "Authorization: Bearer <API key>"})
    spec.components.security_scheme("apiKeyAuth", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    spec.components.header("X-Request-ID", {
        "description": "The caller's X-Request-ID when well-formed ([A-Za-z0-9._:-]{1,128}), else a new id; "
                       "also in meta.request_id and in the access log",
        "required": True, "schema": {"type": "string"}})
    from riskservice.api.openapi.ehr import cds_response_schemas
    from riskservice.api.openapi.ehr import paths as ehr_paths
    for name, schema in cds_response_schemas().items():
        spec.components.schema(name, schema)
    from riskservice.api.openapi import whatif
    for name, schema in whatif.schemas().items():
        spec.components.schema(name, schema)
    for path, operations in {**paths(kb), **whatif.paths(), **ehr_paths()}.items():
        spec.path(path=path, operations=operations)
    doc = spec.to_dict()
    # Optional auth: an empty requirement means "no key needed" when none is configured.
    doc["security"] = [{}, {"bearerAuth": []}, {"apiKeyAuth": []}]
    return doc


def all_documents(kb) -> dict:
    docs = json_schemas(kb)
    docs["openapi.json"] = openapi(kb)
    return docs


def dumps(doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export(kb, directory) -> list:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in sorted(all_documents(kb).items()):
        (directory / name).write_text(dumps(doc))
        written.append(name)
    return written
