"""Core scoring response -> FHIR R4 ``RiskAssessment``.

Built as a plain dict, validated with ``fhir.resources.R4B`` (structure, cardinality, primitive
formats) and then with :func:`check_risk_assessment`, which adds what the library does not
enforce: required value-set bindings (status), the code systems we promise for
``qualitativeRisk``, the probability range (our convention: a 0-1 fraction), and non-empty basis
and note.

Conventions (stated in the resource's note as well):

- ``prediction[0]`` is insulin resistance, its outcome text the ruleset's outcome text exactly
  ("Insulin resistance: HOMA-IR above 3.51 (...)"), ``qualitativeRisk`` from the rules band and
  ``probabilityDecimal`` the insulin-resistance model's probability when one is shown (never when
  HOMA-IR was measured and is valid: the measurement then leads the rationale).
- ``prediction[1]`` exists only when the dysglycaemia model gave a probability: its outcome is
  that model's own outcome (text only; no code invented); probabilities are fractions in [0, 1].
- ``prediction[0].outcome`` is coded SNOMED CT 763325000 "Insulin resistance (disorder)". The
  shared brief marks this code **unsure** (not confirmed in a SNOMED CT browser); a note says so,
  so a consumer can rely on the text if the code turns out wrong.
- ``method`` codes live in a project-owned code system (``METHOD_SYSTEM``): the ruleset version
  and, when present, the model id and version.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .fhir_in import MappingResult

RISK_PROBABILITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/risk-probability"
RISK_PROBABILITY_CODES = {"negligible", "low", "moderate", "high", "certain"}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                      "entered-in-error", "unknown"}
SNOMED = "http://snomed.info/sct"

#: Project-owned identifiers (not registered anywhere; URNs so they cannot be mistaken for a
#: resolvable HL7 code system).
METHOD_SYSTEM = "urn:riskservice:fhir:CodeSystem:ir-risk-method"
EXT_AS_OF = "urn:riskservice:fhir:StructureDefinition:as-of"
EXT_MAPPING_ISSUES = "urn:riskservice:fhir:StructureDefinition:mapping-issues"

OUTCOME_CODING = [{"system": SNOMED, "code": "763325000", "display": "Insulin resistance (disorder)"}]

#: Core band -> risk-probability code (the code system has no 'very high').
BAND_TO_QUALITATIVE = {"low": "low", "moderate": "moderate", "high": "high", "very_high": "high"}
BAND_LABEL = {"low": "low", "moderate": "moderate", "high": "high", "very_high": "very high"}

PROBABILITY_NOTE = ("prediction[0] is insulin resistance as its text defines it, with qualitativeRisk from the rules "
                    "band and, when shown, the insulin-resistance model's probabilityDecimal; prediction[1], when "
                    "present, is the dysglycaemia model's probability for its own outcome, named in its text. "
                    "Probabilities are 0-1 fractions (not percentages); none is given for a measured HOMA-IR.")


class RiskAssessmentError(ValueError):
    """The built RiskAssessment failed validation (a bug or an out-of-range core value)."""


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def top_mechanisms(response: dict, n: int = 3) -> list[dict]:
    mechs = response.get("mechanisms") or []
    return sorted(mechs, key=lambda m: -(m.get("weight") or 0))[:n]


def top_contributions(response: dict, n: int = 5) -> list[dict]:
    contribs = ((response.get("rules") or {}).get("contributions")) or []
    return sorted([c for c in contribs if (c.get("points") or 0) > 0], key=lambda c: -(c.get("points") or 0))[:n]


def build_risk_assessment(response: dict, mapping: MappingResult, *, occurrence: datetime | None = None,
                          resource_id: str | None = None, encounter: str | None = None) -> dict:
    """Build and validate the RiskAssessment dict (JSON-ready)."""
    occurrence = occurrence or datetime.now(timezone.utc)
    rules = response.get("rules") or {}
    meta = response.get("meta") or {}
    block = response.get("model") or {}
    model = block if block.get("model_id") else None    # an installed insulin-resistance model: a method
    band = rules.get("band")

    method_codings = [{"system": METHOD_SYSTEM, "code": f"ruleset-{meta.get('ruleset_version', 'unknown')}",
                       "display": f"Insulin-resistance risk-factor rules, version {meta.get('ruleset_version', 'unknown')}"}]
    method_text = f"riskservice {meta.get('service_version', '?')}; ruleset {meta.get('ruleset_version', '?')}"
    if meta.get("ruleset_sha256"):
        method_text += f" (sha256 {meta['ruleset_sha256']})"
    if model:
        method_codings.append({"system": METHOD_SYSTEM,
                               "code": f"model-{model.get('model_id', 'unknown')}-{model.get('version', 'unknown')}",
                               "display": f"Statistical model {model.get('model_id')} version {model.get('version')}"})
        method_text += f"; model {model.get('model_id')} {model.get('version')}"
    else:
        method_text += "; no insulin-resistance model"
    dys_model = response.get("dysglycaemia") or {}
    if dys_model.get("model_id"):
        method_codings.append({"system": METHOD_SYSTEM,
                               "code": f"model-{dys_model['model_id']}-{dys_model.get('version', 'unknown')}",
                               "display": f"Dysglycaemia model {dys_model['model_id']} version {dys_model.get('version')}"})
        method_text += f"; dysglycaemia model {dys_model['model_id']} {dys_model.get('version')}"

    outcome_text = (response.get("outcome") or {}).get("text") or "Insulin resistance"
    prediction: dict[str, Any] = {"outcome": {"coding": OUTCOME_CODING, "text": outcome_text}}
    if band in BAND_TO_QUALITATIVE:
        prediction["qualitativeRisk"] = {
            "coding": [{"system": RISK_PROBABILITY_SYSTEM, "code": BAND_TO_QUALITATIVE[band]}],
            "text": f"{BAND_LABEL[band]} (rules band)"}
    if model and model.get("probability") is not None:
        prediction["probabilityDecimal"] = model["probability"]
    measured = response.get("measured") or {}
    homa = measured.get("homa_ir") or {}
    rationale = ""
    if measured.get("leads"):      # the measurement leads; the estimate is context
        rationale = f"{homa.get('text')} " + (f"{measured['statement']} " if measured.get("statement") else "") \
            + "What the risk factors predict: "
    if response.get("applicable") is False:
        rationale = "The estimate does not apply: " + " ".join(
            str(r.get("reason")) for r in response.get("not_applicable") or [])
    else:
        drivers = "; ".join(f"{c.get('label') or c.get('factor')} +{c.get('points')}"
                            for c in top_contributions(response))
        rationale += f"Rules score {rules.get('points')}/{rules.get('max_points')} ({BAND_LABEL.get(band, band)})."
        if drivers:
            rationale += f" Main contributors: {drivers}."
        if homa and not measured.get("leads"):
            rationale += f" {homa.get('text')}"
        if block.get("probability") is None and block.get("withheld"):
            rationale += f" Model probability not shown: {block['withheld']}."
    prediction["rationale"] = rationale
    predictions = [prediction]
    dys = response.get("dysglycaemia") or {}
    if dys.get("probability") is not None:
        # the second model estimates its own outcome (dysglycaemia): its own prediction, coded by
        # text only (no code is invented for it)
        predictions.append({
            "outcome": {"text": str(dys.get("outcome") or "dysglycaemia")},
            "probabilityDecimal": dys["probability"],
            "rationale": (f"Statistical model {dys.get('model_id')} version {dys.get('version')}; "
                          "probability is a 0-1 fraction for the outcome named here."),
        })

    notes = [{"text": response.get("disclaimer") or "Decision support only; not a diagnosis."}]
    notes += [{"text": "WARNING: " + w["message"]} for w in response.get("warnings") or []
              if w.get("code") in ("diabetes_range", "not_applicable")]
    if measured.get("leads"):
        notes.append({"text": "Measured: " + str(homa.get("text"))})
    mechs = top_mechanisms(response)
    if mechs:
        notes.append({"text": "Top mechanisms: " + "; ".join(
            f"{m.get('name') or m.get('id')}" + (f" ({m['explanation']})" if m.get("explanation") else "")
            for m in mechs)})
    notes.append({"text": PROBABILITY_NOTE + " Outcome code: SNOMED CT 763325000, marked unsure in the "
                          "project's terminology notes."})
    if mapping.assumptions:
        notes.append({"text": "Assumptions: " + "; ".join(mapping.assumptions)})
    missing = [m.get("label") or m.get("factor") for m in response.get("missing") or []
               if m.get("kind", "factor") == "factor"]
    if missing:
        notes.append({"text": "Not available: " + ", ".join(str(m) for m in missing)})

    ra: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": mapping.subject} if mapping.subject else {"display": "unknown patient"},
        "occurrenceDateTime": _iso(occurrence),
        "performer": {"display": f"riskservice {meta.get('service_version', '')}".strip()},
        "method": {"coding": method_codings, "text": method_text},
        "basis": [{"reference": ref} for ref in mapping.basis],
        "prediction": predictions,
        "note": notes,
    }
    if resource_id:
        ra["id"] = resource_id
    if meta.get("request_id"):
        ra["identifier"] = [{"system": "urn:riskservice:request-id", "value": str(meta["request_id"])}]
    if encounter:
        ra["encounter"] = {"reference": encounter}
    extensions = []
    if mapping.as_of:
        extensions.append({"url": EXT_AS_OF, "valueDate": mapping.as_of.isoformat()})
    # Unmappable resources travel with the assessment as a contained OperationOutcome.
    ra["contained"] = [dict(mapping.operation_outcome(), id="mapping-issues")]
    extensions.append({"url": EXT_MAPPING_ISSUES, "valueReference": {"reference": "#mapping-issues"}})
    ra["extension"] = extensions
    if not ra["basis"]:
        del ra["basis"]
    return validate_risk_assessment(ra)


def check_risk_assessment(ra: dict) -> list[str]:
    """Rules fhir.resources does not enforce. Returns a list of problems (empty when fine)."""
    problems = []
    if ra.get("status") not in OBSERVATION_STATUS:
        problems.append(f"status {ra.get('status')!r} is not in the ObservationStatus value set (required binding)")
    if not (ra.get("subject") or {}).get("reference"):
        problems.append("subject must be a reference to the Patient")
    for i, pred in enumerate(ra.get("prediction") or []):
        p = pred.get("probabilityDecimal")
        if p is not None:
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= float(p) <= 1:
                problems.append(f"prediction[{i}].probabilityDecimal must be a 0-1 fraction, got {p!r}")
        qr = pred.get("qualitativeRisk")
        if qr is not None:
            codes = [(c.get("system"), c.get("code")) for c in qr.get("coding") or []]
            if not any(s == RISK_PROBABILITY_SYSTEM and c in RISK_PROBABILITY_CODES for s, c in codes):
                problems.append(f"prediction[{i}].qualitativeRisk must use {RISK_PROBABILITY_SYSTEM} "
                                f"({', '.join(sorted(RISK_PROBABILITY_CODES))})")
        if "probabilityRange" in pred:
            problems.append("probabilityRange is not produced by this service (ras-1 requires % units)")
    if not ra.get("note") or not ra["note"][0].get("text"):
        problems.append("note[0] must carry the disclaimer")
    for i, b in enumerate(ra.get("basis") or []):
        if not b.get("reference"):
            problems.append(f"basis[{i}] has no reference")
    contained_ids = {c.get("id") for c in ra.get("contained") or []}
    for ext in ra.get("extension") or []:
        ref = (ext.get("valueReference") or {}).get("reference", "")
        if ref.startswith("#") and ref[1:] not in contained_ids:
            problems.append(f"extension references missing contained resource {ref}")
    for c in ra.get("contained") or []:
        if f"#{c.get('id')}" not in {(e.get("valueReference") or {}).get("reference") for e in ra.get("extension") or []}:
            problems.append(f"contained {c.get('resourceType')} {c.get('id')} is not referenced (dom-3)")
    return problems


def validate_risk_assessment(ra: dict) -> dict:
    """Validate with fhir.resources.R4B plus :func:`check_risk_assessment`; returns the JSON dict
    as the library serialises it."""
    import pydantic
    from fhir.resources.R4B.riskassessment import RiskAssessment

    problems = check_risk_assessment(ra)
    if problems:
        raise RiskAssessmentError("; ".join(problems))
    try:
        model = RiskAssessment.model_validate(ra)
    except pydantic.ValidationError as exc:
        raise RiskAssessmentError(f"RiskAssessment does not validate: {exc.errors()[:3]}") from exc
    return model.model_dump(mode="json", exclude_none=True)
