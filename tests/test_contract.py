"""schemas/ is generated from the code; real responses conform to it."""
import json
from pathlib import Path

import jsonschema
import pytest

from riskservice.api.openapi import all_documents, dumps

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def test_checked_in_schemas_are_current(kb):
    docs = all_documents(kb)
    stale = [name for name, doc in docs.items()
             if not (SCHEMAS / name).exists() or (SCHEMAS / name).read_text() != dumps(doc)]
    assert not stale, f"schemas/ is stale for {stale}: run `make schemas` (riskservice export-schemas schemas)"


def load(name):
    return json.loads((SCHEMAS / name).read_text())


def test_response_validates_against_published_schema(client, patient):
    body = client.post("/v1/score", json=patient).get_json()
    jsonschema.Draft202012Validator(load("response.schema.json")).validate(body)


def test_request_schema_accepts_the_acceptance_patient_and_rejects_unknown_fields(patient):
    validator = jsonschema.Draft202012Validator(load("request.schema.json"))
    validator.validate(patient)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**patient, "colour": "blue"})


def test_errors_validate_against_published_schema(client):
    validator = jsonschema.Draft202012Validator(load("error.schema.json"))
    for r in (client.post("/v1/score", json={"age": 1}), client.get("/nope"),
              client.post("/v1/score", data="{", content_type="application/json")):
        validator.validate(r.get_json())


def test_knowledge_files_validate_against_published_schema(kb):
    schema = load("knowledge.schema.json")
    for name in ("factors", "indices", "references", "drug_classes"):
        doc = json.loads((kb.directory / f"{name}.json").read_text())
        jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{name}_file"}).validate(doc)
