"""OpenAPI paths and schemas of the EHR adapters (FHIR scoring, CDS Hooks 2.0), kept apart
from the core API's paths. The CDS Hooks response schema is the one the adapter validates
its own answers against (riskservice/ehr/cds-hooks-2.0-response.schema.json)."""
from __future__ import annotations

import json
from importlib import resources

from riskservice.api.openapi.paths import AUDIENCE, ok, problem

_WEIGHT = {"resourceType": "Observation", "id": "wt", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
           "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-05-20",
           "valueQuantity": {"value": 81.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}
_HEIGHT = {"resourceType": "Observation", "id": "ht", "status": "final",
           "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2", "display": "Body height"}]},
           "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2026-05-20",
           "valueQuantity": {"value": 1.78, "unit": "m", "system": "http://unitsofmeasure.org", "code": "m"}}
_PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-03-01"}
EXAMPLE_BUNDLE = {"resourceType": "Bundle", "type": "collection",
                  "entry": [{"resource": r} for r in (_PATIENT, _WEIGHT, _HEIGHT)]}
EXAMPLE_HOOK = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
                "context": {"userId": "Practitioner/example", "patientId": "p1"},
                "prefetch": {"patient": _PATIENT, "anthropometry": {
                    "resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": _WEIGHT}, {"resource": _HEIGHT}]}}}
EXAMPLE_FEEDBACK = {"feedback": [{"card": "ir-risk-card", "outcome": "accepted",
                                  "outcomeTimestamp": "2026-11-20T10:00:00Z"}]}
SERVICE_ID = {"name": "service_id", "in": "path", "required": True,
              "description": "A CDS service id from GET /cds-services (unknown ids are 404)",
              "schema": {"type": "string", "enum": ["ir-risk", "ir-risk-order-select"]}}
AS_OF = {"name": "as_of", "in": "query", "required": False,
         "description": "Date (YYYY-MM-DD) that ages and look-back windows are computed from; default today",
         "schema": {"type": "string", "anyOf": [{"format": "date"}, {"const": ""}]}}
OBJECT = {"type": "object"}


def cds_response_schemas() -> dict:
    """The CDS Hooks response schema as OpenAPI components (its $defs become components)."""
    text = resources.files("riskservice.ehr").joinpath("cds-hooks-2.0-response.schema.json").read_text()
    doc = json.loads(text.replace('"#/$defs/', '"#/components/schemas/CdsHooks_'))
    defs = doc.pop("$defs", {})
    doc.pop("$schema", None)
    out = {f"CdsHooks_{name}": schema for name, schema in defs.items()}
    out["CdsHooksResponse"] = doc
    return out


def _common(path: str) -> dict:
    return {"401": problem(401, "An API key (or, for CDS Hooks, the client's JWT) is required and was "
                                "missing or wrong", path),
            "405": problem(405, "Method not allowed on this path", path),
            "408": problem(408, "The body did not arrive within the read deadline (slow client)", path),
            "413": problem(413, "Body larger than MAX_CONTENT_LENGTH", path),
            "415": problem(415, "The body is not JSON of the accepted media type", path,
                           {"detail": "Send the request as application/json."})}


def paths() -> dict:
    return {
        "/v1/fhir/score": {"post": {
            "summary": "Score a FHIR R4 Bundle; answer a FHIR R4 RiskAssessment", "operationId": "fhir_score",
            "parameters": [AS_OF, AUDIENCE],
            "requestBody": {"required": True, "content": {
                "application/fhir+json": {"schema": OBJECT, "example": EXAMPLE_BUNDLE},
                "application/json": {"schema": OBJECT, "example": EXAMPLE_BUNDLE}}},
            "responses": {
                "200": ok("RiskAssessment with the rules band, indices, model probability (dysglycaemia) and "
                          "the basis of every mapped value", "application/fhir+json", OBJECT),
                "400": problem(400, "Not a JSON object, not a usable Bundle, or a bad as_of", "/v1/fhir/score",
                               {"detail": "the Bundle has no Patient resource"}),
                **_common("/v1/fhir/score"),
                "422": problem(422, "The mapped values failed validation, or a bad audience", "/v1/fhir/score"),
                "503": problem(503, "REQUIRE_APPROVED is on and the result used unapproved knowledge",
                               "/v1/fhir/score"),
            }}},
        "/cds-services": {"get": {
            "summary": "CDS Hooks discovery", "operationId": "cds_discovery",
            "responses": {"200": ok("The CDS services with their prefetch templates", "application/json",
                                    OBJECT),
                          "401": _common("/cds-services")["401"], "405": _common("/cds-services")["405"]}}},
        "/cds-services/{service_id}": {"post": {
            "summary": "CDS Hooks call (patient-view or order-select)", "operationId": "cds_call",
            "parameters": [SERVICE_ID],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": OBJECT, "example": EXAMPLE_HOOK}}},
            "responses": {
                "200": ok("Cards (none when there is too little data or nothing to warn about)", "application/json",
                          {"$ref": "#/components/schemas/CdsHooksResponse"}),
                "400": problem(400, "Malformed hook request or prefetch, or fhirServer not allowed",
                               "/cds-services/ir-risk",
                               {"detail": "hookInstance and context.patientId are required"}),
                **_common("/cds-services/ir-risk"),
                "404": problem(404, "Unknown CDS service id", "/cds-services/nope",
                               {"type": "about:blank", "title": "Not Found", "detail": "unknown CDS service"}),
                "412": problem(412, "The Patient was neither prefetched nor retrievable from fhirServer",
                               "/cds-services/ir-risk"),
            }}},
        "/cds-services/{service_id}/feedback": {"post": {
            "summary": "CDS Hooks card feedback (counted only)", "operationId": "cds_feedback",
            "parameters": [SERVICE_ID],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": OBJECT, "example": EXAMPLE_FEEDBACK}}},
            "responses": {
                "200": ok("Accepted", "application/json", OBJECT, {}),
                "400": problem(400, "Not a JSON object or no feedback items", "/cds-services/ir-risk/feedback",
                               {"detail": "feedback must be a non-empty array"}),
                **_common("/cds-services/ir-risk/feedback"),
                "404": problem(404, "Unknown CDS service id", "/cds-services/nope/feedback",
                               {"type": "about:blank", "title": "Not Found", "detail": "unknown CDS service"}),
                "422": problem(422, "A feedback item lacks card, outcome or outcomeTimestamp",
                               "/cds-services/ir-risk/feedback",
                               {"type": "about:blank", "title": "Unprocessable Entity", "errors": None,
                                "detail": "each feedback item needs card, outcome (accepted|overridden) and "
                                          "outcomeTimestamp"}),
            }}},
    }
