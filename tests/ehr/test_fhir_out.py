import copy
from datetime import date, datetime, timezone

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment

from riskservice.ehr import fhir_in, fhir_out

from .fakecore import FakeCore
from .helpers import load_bundle


@pytest.fixture
def mapping():
    return fhir_in.map_bundle(load_bundle("complete"), date(2026, 11, 20),
                              drug_resolver=FakeCore.knowledge.drug_class_for)


@pytest.fixture
def response(mapping):
    return FakeCore().score(mapping.payload)


def test_risk_assessment_validates_and_carries_basis_and_disclaimer(mapping, response):
    ra = fhir_out.build_risk_assessment(response, mapping,
                                        occurrence=datetime(2026, 11, 20, 10, tzinfo=timezone.utc))
    RiskAssessment.model_validate(ra)
    assert ra["status"] == "final" and ra["subject"] == {"reference": "Patient/p-complete"}
    assert ra["occurrenceDateTime"] == "2026-11-20T10:00:00Z"
    assert [b["reference"] for b in ra["basis"]] == mapping.basis
    assert ra["note"][0]["text"] == response["disclaimer"]
    assert any(n["text"].startswith("Top mechanisms: Ectopic fat") for n in ra["note"])
    pred = ra["prediction"][0]
    assert pred["qualitativeRisk"]["coding"][0] == {"system": fhir_out.RISK_PROBABILITY_SYSTEM, "code": "high"}
    assert pred["outcome"]["coding"][0]["code"] == "763325000" and pred["outcome"]["text"] == response["outcome"]["text"]
    assert any("763325000, marked unsure" in n["text"] for n in ra["note"])
    assert "probabilityDecimal" not in pred                     # no model in this response
    assert "ruleset-test" == ra["method"]["coding"][0]["code"]
    ext = {e["url"]: e for e in ra["extension"]}
    assert ext[fhir_out.EXT_AS_OF]["valueDate"] == "2026-11-20"
    assert ra["contained"][0]["resourceType"] == "OperationOutcome"


def test_probability_is_a_checked_fraction(mapping, response):
    response = copy.deepcopy(response)
    response["model"] = {"probability": 0.72, "outcome": response["outcome"]["text"], "model_id": "ir",
                         "version": "2.0"}
    response["dysglycaemia"] = {"probability": 0.31, "outcome": "Dysglycaemia: HbA1c >= 5.7%", "model_id": "lr",
                                "version": "1.0", "withheld": None}
    ra = fhir_out.build_risk_assessment(response, mapping)
    ir, dys = ra["prediction"]
    assert ir["probabilityDecimal"] == 0.72 and ir["outcome"]["coding"][0]["code"] == "763325000"
    assert dys["probabilityDecimal"] == 0.31 and dys["outcome"] == {"text": "Dysglycaemia: HbA1c >= 5.7%"}
    assert [c["code"] for c in ra["method"]["coding"]] == ["ruleset-test", "model-ir-2.0", "model-lr-1.0"]
    for bad in (72, -0.1, 1.5):
        response["model"]["probability"] = bad
        with pytest.raises(fhir_out.RiskAssessmentError, match="0-1 fraction"):
            fhir_out.build_risk_assessment(response, mapping)


def test_a_valid_measured_homa_ir_leads_and_withholds_the_probability(mapping, response):
    response = copy.deepcopy(response)
    response["leads"] = "measured_homa_ir"
    response["measured"] = {"leads": True, "statement": None,
                            "homa_ir": {"value": 4.9, "text": "Measured HOMA-IR 4.9: above the borderline zone."}}
    response["model"] = {"probability": None, "withheld": "HOMA-IR was measured and is valid",
                         "outcome": response["outcome"]["text"], "model_id": "ir", "version": "2.0"}
    ra = fhir_out.build_risk_assessment(response, mapping)
    (pred,) = ra["prediction"]
    assert "probabilityDecimal" not in pred and pred["rationale"].startswith("Measured HOMA-IR 4.9")
    assert "Measured: Measured HOMA-IR 4.9: above the borderline zone." in [n["text"] for n in ra["note"]]


@pytest.mark.parametrize("band,code", [("low", "low"), ("moderate", "moderate"), ("high", "high"),
                                       ("very_high", "high")])
def test_band_to_risk_probability(mapping, response, band, code):
    response = copy.deepcopy(response)
    response["rules"]["band"] = band
    ra = fhir_out.build_risk_assessment(response, mapping)
    assert ra["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == code


def test_own_checks_catch_what_the_library_accepts(mapping, response):
    ra = fhir_out.build_risk_assessment(response, mapping)
    bogus = copy.deepcopy(ra)
    bogus["status"] = "bogus"
    RiskAssessment.model_validate(bogus)                       # the library accepts it...
    assert fhir_out.check_risk_assessment(bogus)               # ...our check does not
    wrong_system = copy.deepcopy(ra)
    wrong_system["prediction"][0]["qualitativeRisk"]["coding"][0]["system"] = "http://example.org/x"
    assert fhir_out.check_risk_assessment(wrong_system)
    dangling = copy.deepcopy(ra)
    dangling["contained"][0]["id"] = "other"
    assert fhir_out.check_risk_assessment(dangling)


def test_the_diabetes_range_leads_on_the_ehr_surfaces_when_the_score_does_not_apply(mapping, full_scorer):
    """Issue 20 section 5 error 2 (pregnant, fasting glucose 130 mg/dL): the critical card comes
    first, the RiskAssessment's first warning note is the diabetes range, and nothing reads as a score."""
    from riskservice.ehr import cds_hooks
    response = full_scorer.score({"age": 30, "sex": "female", "pregnant": True, "fasting_glucose": 130,
                                  "fasting_glucose_unit": "mg/dL"})
    cards = cds_hooks.patient_view_cards(response, mapping, None, None)
    assert cards[0]["indicator"] == "critical" and cards[0]["detail"] == response["warnings"][0]["message"]
    assert cards[1]["summary"] == "Insulin-resistance estimate does not apply (pregnant)"
    ra = fhir_out.build_risk_assessment(response, mapping)
    assert ra["note"][1]["text"] == "WARNING: " + response["warnings"][0]["message"]
    (pred,) = ra["prediction"]
    assert "qualitativeRisk" not in pred and pred["rationale"].startswith("The estimate does not apply")
