"""The EHR endpoints on the real application (real core, real knowledge base), configured as an EHR
deployment would be: `ehr_app` / `ehr_client` below."""
import json

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment

from riskservice import create_app
from riskservice.ehr import fhir_in

from .helpers import (
    ALLOWED_SERVERS,
    PATIENTS,
    FhirServer,
    assert_valid_cds_response,
    hook_request,
    load_bundle,
    prefetch_for,
    strip_keys,
)


def real_app_kb(ehr_client):
    return ehr_client.application.extensions["riskservice"].knowledge


@pytest.fixture(scope="module")
def ehr_app():
    """The real application, configured as an EHR deployment would be (public URL, allow-list)."""
    return create_app({"TESTING": True, "PUBLIC_BASE_URL": "https://cds.example.org",
                       "CDS_FHIR_SERVER_ALLOWLIST": ALLOWED_SERVERS})


@pytest.fixture()
def ehr_client(ehr_app):
    return ehr_app.test_client()


def _token_body():
    return {"access_token": "test-token", "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "riskservice"}


def test_every_mapped_unit_is_accepted_by_the_core(ehr_app):
    kb = ehr_app.extensions["riskservice"].knowledge
    for concept in fhir_in.tables().observations["concepts"]:
        accepted = set(kb.units["quantities"][concept["field"]]["units"])
        assert set(concept["units"].values()) <= accepted, concept["field"]


def test_rxnorm_table_atc_codes_resolve_in_the_knowledge(ehr_app):
    kb = ehr_app.extensions["riskservice"].knowledge
    for ing in fhir_in.tables().medications["ingredients"]:
        by_atc = kb.drug_class_for(ing["atc"]) if ing["atc"] else None
        by_name = kb.drug_class_for(ing["name"])
        if by_atc and by_name:
            assert by_atc["id"] == by_name["id"], ing["name"]


@pytest.mark.parametrize("name", PATIENTS)
def test_fhir_score_on_the_real_core(ehr_client, ehr_app, name):
    resp = ehr_client.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle(name))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    ra = resp.get_json()
    RiskAssessment.model_validate(ra)
    assert ra["note"][0]["text"] == ehr_app.extensions["riskservice"].knowledge.disclaimer
    assert ra["basis"] and all(b["reference"] for b in ra["basis"])
    pred = ra["prediction"][0]
    kb = ehr_app.extensions["riskservice"].knowledge
    assert pred["outcome"]["text"] == kb.ruleset["outcome"]["text"]          # the outcome, named exactly
    assert pred["qualitativeRisk"]["coding"][0]["code"] in {"low", "moderate", "high"}
    if ehr_app.extensions["riskservice"].model.insulin_resistance is None:
        assert "probabilityDecimal" not in pred and "Model probability not shown" in pred["rationale"]
    for other in ra["prediction"][1:]:                    # the dysglycaemia model, labelled with its outcome
        assert 0 <= other["probabilityDecimal"] <= 1
        assert other["outcome"]["text"] == kb.ruleset["dysglycaemia"]["text"]


def test_complete_patient_medications_reach_the_core(ehr_client):
    ra = ehr_client.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle("complete")).get_json()
    refs = {b["reference"] for b in ra["basis"]}
    assert {"MedicationStatement/c-ms-pred", "MedicationRequest/c-mr-olz"} <= refs
    # the rationale names only the top five contributors: show the medications' points reach the total
    bundle = load_bundle("complete")
    bundle["entry"] = [e for e in bundle["entry"]
                       if not e["resource"]["resourceType"].startswith("Medication")]
    without = ehr_client.post("/v1/fhir/score?as_of=2026-11-20", json=bundle).get_json()

    def total(r):
        return int(r["prediction"][0]["rationale"].split("Rules score ")[1].split("/")[0])
    kb = real_app_kb(ehr_client)
    assert total(ra) - total(without) == kb.drug_by_id["glucocorticoids"]["points"] + \
        kb.drug_by_id["atypical_antipsychotics"]["points"]


def test_unscorable_patient_is_a_problem_json(ehr_client):
    bundle = load_bundle("sparse")
    bundle["entry"][0]["resource"]["gender"] = "unknown"
    resp = ehr_client.post("/v1/fhir/score?as_of=2026-11-20", json=bundle)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "sex" in resp.get_json()["errors"]


def test_patient_view_card_and_the_same_card_via_fhir_server(ehr_client):
    full = ehr_client.post("/cds-services/ir-risk", json=hook_request("complete", prefetch=prefetch_for("complete")))
    assert full.status_code == 200
    assert_valid_cds_response(full.get_json())
    (card,) = full.get_json()["cards"]
    assert card["summary"].endswith(")") and len(card["summary"]) < 140
    assert card["source"]["url"] == "https://cds.example.org/v1/knowledge"  # from PUBLIC_BASE_URL, never the Host header
    with FhirServer("complete") as server:
        body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "patient", "labs"),
                            fhirServer=server.base, fhirAuthorization=_token_body())
        fetched = ehr_client.post("/cds-services/ir-risk", json=body)
    assert fetched.status_code == 200
    assert_valid_cds_response(fetched.get_json())
    (card2,) = fetched.get_json()["cards"]
    assert {k: v for k, v in card2.items() if k != "uuid"} == {k: v for k, v in card.items() if k != "uuid"}


@pytest.mark.parametrize("name", PATIENTS)
def test_patient_view_every_fixture_on_the_real_core(ehr_client, name):
    resp = ehr_client.post("/cds-services/ir-risk", json=hook_request(name, prefetch=prefetch_for(name)))
    assert resp.status_code == 200
    assert_valid_cds_response(resp.get_json())


@pytest.mark.parametrize("coding,text,class_name", [
    ([{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "61381", "display": "olanzapine"}],
     "olanzapine 10 mg tablet", "antipsychotic"),
    ([{"system": "http://www.whocc.no/atc", "code": "H02AB06", "display": "prednisolone"}],
     "prednisolone 5 mg tablet", "glucocorticoid"),
])
def test_order_select_real_knowledge(ehr_client, ehr_app, coding, text, class_name):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    body["context"].update(selections=["MedicationRequest/draft-1"], draftOrders={
        "resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
            "resourceType": "MedicationRequest", "id": "draft-1", "status": "draft", "intent": "order",
            "medicationCodeableConcept": {"coding": coding, "text": text},
            "subject": {"reference": "Patient/p-molar"}}}]})
    resp = ehr_client.post("/cds-services/ir-risk-order-select", json=body)
    assert resp.status_code == 200
    assert_valid_cds_response(resp.get_json())
    (card,) = resp.get_json()["cards"]
    assert card["indicator"] == "warning" and class_name in card["summary"].lower()
    kb = ehr_app.extensions["riskservice"].knowledge
    cls = kb.drug_class_for(coding[0]["code"]) or kb.drug_class_for(coding[0]["display"])
    for mid in cls["mechanisms"]:
        assert kb.mechanisms[mid]["name"] in card["detail"]


def test_discovery_on_the_real_app(ehr_client):
    doc = ehr_client.get("/cds-services").get_json()
    assert {s["hook"] for s in doc["services"]} == {"patient-view", "order-select"}
    json.dumps(doc)
