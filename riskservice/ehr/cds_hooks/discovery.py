"""The two services: their ids, the discovery document, prefetch templates, and how a call is read.

Rules followed (HL7 CDS Hooks 2.0.1, see shared/domain/ehr-facts.md section 1).
"""
from __future__ import annotations

import re
import urllib.parse
from datetime import date

from .. import fhir_in

PATIENT_VIEW_ID = "ir-risk"
ORDER_SELECT_ID = "ir-risk-order-select"


class CdsError(Exception):
    """A hook call that must be answered with an HTTP error (status + short, PHI-free reason)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _code_param(codes: list[str]) -> str:
    return ",".join(f"http://loinc.org|{c}" for c in codes)


def prefetch_templates() -> dict[str, str]:
    """R4 search syntax; the Observation code lists come from mapping/observations.json."""
    t = fhir_in.tables()
    pid = "{{context.patientId}}"
    return {
        "patient": f"Patient/{pid}",
        "anthropometry": (f"Observation?patient={pid}&code={_code_param(t.loinc_codes(['anthropometry', 'lifestyle']))}"
                          "&_sort=-date&_count=100"),
        "labs": f"Observation?patient={pid}&code={_code_param(t.loinc_codes(['lab']))}&_sort=-date&_count=200",
        "conditions": f"Condition?patient={pid}",
        "medicationRequests": f"MedicationRequest?patient={pid}&status=active",
        "medicationStatements": f"MedicationStatement?patient={pid}&status=active",
        "familyHistory": f"FamilyMemberHistory?patient={pid}",
    }


def discovery() -> dict:
    prefetch = prefetch_templates()
    return {"services": [
        {"hook": "patient-view", "id": PATIENT_VIEW_ID, "title": "Insulin resistance risk",
         "description": ("Scores the likelihood of insulin resistance from adiposity, activity, medications, "
                         "family history, conditions, inflammatory markers and optional labs, and explains "
                         "the mechanisms involved. Decision support, not a diagnosis."),
         "prefetch": prefetch,
         "usageRequirements": "Needs the patient's birth date and administrative gender and at least one "
                              "adiposity measure (BMI, weight and height, or waist)."},
        {"hook": "order-select", "id": ORDER_SELECT_ID,
         "title": "Drugs that worsen insulin resistance",
         "description": ("Warns when a drug from a class that worsens insulin resistance (e.g. systemic "
                         "glucocorticoids, atypical antipsychotics, thiazides) is selected, naming the class, "
                         "its mechanism and the patient's current risk band."),
         "prefetch": prefetch},
    ]}


SERVICES = {PATIENT_VIEW_ID: "patient-view", ORDER_SELECT_ID: "order-select"}

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")


def render_template(template: str, context: dict) -> str:
    """Replace ``{{context.x}}`` tokens (first-level primitive context fields only)."""
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if not name.startswith("context."):
            raise CdsError(400, f"unsupported prefetch token {name}")
        value = context.get(name.split(".", 1)[1])
        if not isinstance(value, (str, int)) or value == "":
            raise CdsError(400, f"context field for token {name} is missing")
        return urllib.parse.quote(str(value), safe="")
    return _TOKEN.sub(sub, template)


def as_of_from(body: dict, today: date | None = None) -> date:
    """CDS calls are 'now'; an explicit extension value is accepted for testing/back-scoring."""
    ext = body.get("extension") if isinstance(body.get("extension"), dict) else {}
    return fhir_in.parse_as_of(ext.get("org.riskservice.as_of"), today)
