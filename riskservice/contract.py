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
    from riskservice.api.contracts import ProblemOut, ScoreOut
    conv = _inline_converter()
    docs = {}
    for name, schema, title in (
        ("request", build_patient_schema(kb)(), "POST /v1/score request: one patient's flat risk-factor record"),
        ("response", ScoreOut(), "POST /v1/score response"),
        ("error", ProblemOut(), "RFC 9457 problem details returned for every error"),
    ):
        body = conv.schema2jsonschema(schema)
        docs[f"{name}.schema.json"] = {"$schema": DIALECT, "title": title, **body}
    docs["knowledge.schema.json"] = json.loads((default_dir() / SCHEMA_FILE).read_text())
    return docs


def openapi(kb) -> dict:
    """The OpenAPI 3.1 document for every route the service serves."""
    from riskservice.api.contracts import ProblemOut, ScoreOut
    spec = APISpec(
        title="riskservice", version=__version__, openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={"description": "Transparent insulin-resistance risk-factor scoring. " + kb.disclaimer},
    )
    spec.components.schema("PatientIn", schema=build_patient_schema(kb))
    spec.components.schema("ScoreOut", schema=ScoreOut)
    spec.components.schema("Problem", schema=ProblemOut)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

    def err(desc):
        return {"description": desc, "content": problem}

    example = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104, "mvpa_minutes_per_week": 30,
               "family_history_diabetes": "first_degree", "hs_crp": 4.1, "medications": ["prednisolone"],
               "fasting_glucose": 104, "fasting_glucose_unit": "mg/dL", "fasting_insulin": 14,
               "triglycerides": 180, "hdl_cholesterol": 38}
    spec.path(path="/v1/score", operations={"post": {
        "summary": "Score one patient",
        "operationId": "score",
        "parameters": [{"name": "audience", "in": "query", "required": False,
                        "description": "Who reads the texts: clinician (default) or patient. Numbers are identical.",
                        "schema": {"type": "string", "enum": ["clinician", "patient"], "default": "clinician"}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/PatientIn"}, "example": example}}},
        "responses": {
            "200": {"description": "Points, band, indices, mechanisms, model, missing, references, disclaimer",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScoreOut"}}}},
            "400": err("Malformed JSON"), "413": err("Body too large"),
            "415": err("Not application/json"), "422": err("Invalid patient data or audience: every problem, keyed by field"),
            "503": err("REQUIRE_APPROVED is on and the result used knowledge entries not approved by clinical review"),
        }}})
    spec.path(path="/v1/knowledge", operations={"get": {
        "summary": "The rules, mechanisms, drug classes, indices and references, for clinical review",
        "operationId": "knowledge",
        "responses": {"200": {"description": "The knowledge base", "content": {"application/json": {"schema": {"type": "object"}}}}}}})
    spec.path(path="/healthz", operations={"get": {
        "summary": "Liveness", "operationId": "healthz",
        "responses": {"200": {"description": "Alive", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}}}}}}})
    return spec.to_dict()


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
