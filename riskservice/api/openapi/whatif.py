"""OpenAPI for POST /v1/what-if: the request (a patient and optional scenarios), the answer (the
patient's estimate and each scenario's, from the same engine) and the path with its problems."""
from __future__ import annotations

from riskservice.core import whatif
from riskservice.core.fields import FIELD_BY_NAME, SMOKING

from .paths import AUDIENCE, EXAMPLE_PATIENT, _auth, ok, problem

_NUMBER_TARGET = {"type": "number",
                  "description": "Target value (in the unit of <field>_unit, else the canonical unit)."}


def _changes() -> dict:
    props = {
        "weight_change_percent": {
            "type": "number", "minimum": whatif.WEIGHT_CHANGE_LIMITS[0], "maximum": whatif.WEIGHT_CHANGE_LIMITS[1],
            "not": {"const": 0},
            "description": "Weight changed by this percentage (BMI changes with it at the same height); BMI "
                           "itself when only BMI was given, both when both were. Waist stays as given."},
        "medications_stop": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1},
                             "description": "Medicines to take off the patient's list (a medication review); "
                                            "matched by name, case-insensitively."},
    }
    for name in whatif.TARGET_FIELDS:
        if name == "smoking":
            props[name] = {"type": "string", "enum": list(SMOKING),
                           "description": "Smoking status to assume ('former' for a smoker who stops)."}
        else:
            props[name] = dict(_NUMBER_TARGET, description=f"{FIELD_BY_NAME[name].description} Target value.")
            if FIELD_BY_NAME[name].has_unit:
                props[f"{name}_unit"] = {"type": "string", "description": f"Unit of the {name} target."}
    return {"type": "object", "minProperties": 1, "additionalProperties": False, "properties": props}


def schemas() -> dict:
    estimate = {
        "applicable": {"type": "boolean"},
        "points": {"type": ["integer", "null"]},
        "band": {"type": ["string", "null"]},
        "probability": {"type": ["number", "null"], "description": "The model's probability (null when the "
                                                                    "model is off or the score does not apply)."},
        "dysglycaemia_probability": {"type": ["number", "null"]},
    }
    return {
        "WhatIfIn": {
            "type": "object", "required": ["patient"], "additionalProperties": False,
            "properties": {
                "patient": {"$ref": "#/components/schemas/PatientIn"},
                "scenarios": {
                    "type": "array", "minItems": 1, "maxItems": whatif.MAX_SCENARIOS,
                    "description": "Without it: the defaults that apply to this patient (BMI 5% lower, 150 "
                                   "min/week of activity when less was recorded, not smoking for a current "
                                   "smoker, and all of them together).",
                    "items": {"type": "object", "required": ["changes"], "additionalProperties": False,
                              "properties": {"id": {"type": "string", "minLength": 1, "maxLength": 100},
                                             "label": {"type": "string", "minLength": 1, "maxLength": 100},
                                             "changes": _changes()}}},
            },
        },
        "WhatIfOut": {
            "type": "object", "required": ["baseline", "scenarios", "statement", "disclaimer", "meta"],
            "properties": {
                "baseline": {"type": "object", "required": ["applicable", "points", "band", "probability"],
                             "properties": estimate},
                "scenarios": {"type": "array", "items": {
                    "type": "object", "required": ["id", "label", "changes", "applies", "reason"],
                    "properties": {
                        "id": {"type": "string"}, "label": {"type": "string"},
                        "changes": {"type": "array", "items": {
                            "type": "object", "required": ["field", "from", "to"],
                            "properties": {"field": {"type": "string"}, "from": {}, "to": {},
                                           "unit": {"type": ["string", "null"]}}}},
                        "applies": {"type": "boolean"},
                        "reason": {"type": ["string", "null"],
                                   "description": "Why the scenario does not apply (e.g. already at the target)."},
                        "errors": {"type": "object", "description": "When the changed inputs are not valid."},
                        **estimate,
                        "probability_change": {"type": "number", "description": "Scenario minus patient."},
                        "points_change": {"type": "integer", "description": "Scenario minus patient."},
                        "dysglycaemia_probability_change": {"type": "number", "description": "Scenario minus patient."},
                    }}},
                "statement": {"type": "string", "description": "What these numbers are and are not: the model's "
                                                                "cross-sectional association, not a promise."},
                "disclaimer": {"type": "string"},
                "meta": {"type": "object"},
            },
        },
    }


def paths() -> dict:
    return {"/v1/what-if": {"post": {
        "summary": "What would change it: the patient re-scored with modifiable inputs changed",
        "description": "The same engine scores the patient and every scenario (one evaluation, one row each), "
                       "so a scenario's numbers equal a fresh POST /v1/score of its changed inputs (summary "
                       "view). The answer is the model's association in a cross-sectional survey, not an "
                       "effect estimate: 'statement' says so.",
        "operationId": "what_if", "parameters": [AUDIENCE],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/WhatIfIn"},
            "example": {"patient": {**{k: v for k, v in EXAMPLE_PATIENT.items() if k != "bmi"},
                                    "weight": 98, "height": 175, "smoking": "current"},
                        "scenarios": [{"label": "Weight 7% lower", "changes": {"weight_change_percent": -7}},
                                      {"changes": {"smoking": "former", "mvpa_minutes_per_week": 150}},
                                      {"changes": {"medications_stop": ["prednisolone"]}}]}}}},
        "responses": {
            "200": ok("The patient's estimate and each scenario's, with what changed", "application/json",
                      {"$ref": "#/components/schemas/WhatIfOut"}),
            "400": problem(400, "Malformed JSON", "/v1/what-if"),
            **_auth("/v1/what-if"),
            "408": problem(408, "The body did not arrive within the read deadline (slow client)", "/v1/what-if"),
            "413": problem(413, "Body larger than MAX_CONTENT_LENGTH", "/v1/what-if"),
            "415": problem(415, "Not application/json", "/v1/what-if"),
            "422": problem(422, "Invalid patient data or scenarios: every problem, keyed by field "
                                "(scenarios[0].changes.waist for a scenario)", "/v1/what-if"),
            "503": problem(503, "REQUIRE_APPROVED is on and the result used knowledge entries not approved "
                                "by clinical review", "/v1/what-if"),
        }}}}
