import logging

import pytest
from fhir.resources.R4B.riskassessment import RiskAssessment

from riskservice.ehr import cds_hooks

from .helpers import (
    PATIENTS,
    FhirServer,
    assert_valid_cds_response,
    hook_request,
    load_bundle,
    prefetch_for,
    strip_keys,
)


def call(client, service, body, status=200):
    resp = client.post(f"/cds-services/{service}", json=body)
    assert resp.status_code == status, resp.get_data(as_text=True)
    if status == 200:
        assert_valid_cds_response(resp.get_json())
    return resp


# ------------------------------------------------------------------ /v1/fhir/score

@pytest.mark.parametrize("name", PATIENTS)
def test_fhir_score_returns_valid_risk_assessment(fake_client, name):
    resp = fake_client.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle(name))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/fhir+json"
    ra = resp.get_json()
    RiskAssessment.model_validate(ra)
    assert ra["basis"][0]["reference"].startswith("Patient/")
    assert "not a diagnosis" in ra["note"][0]["text"]
    assert ra["extension"][0]["valueDate"] == "2026-11-20"


def test_fhir_score_lists_unmapped_resources(fake_client):
    ra = fake_client.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle("unknown")).get_json()
    issues = ra["contained"][0]["issue"]
    assert any("Observation/u-local" in i.get("expression", []) for i in issues)
    assert {b["reference"] for b in ra["basis"]} == {"Patient/p-unknown", "Observation/u-wt", "Observation/u-ht"}


def test_fhir_score_rejects_non_bundle_and_bad_as_of(fake_client):
    assert fake_client.post("/v1/fhir/score", json={"resourceType": "Patient"}).status_code == 400
    assert fake_client.post("/v1/fhir/score?as_of=soon", json=load_bundle("sparse")).status_code == 400
    assert fake_client.post("/v1/fhir/score", data="not json", content_type="application/json").status_code == 400


# ------------------------------------------------------------------ discovery

def test_discovery_lists_both_services_with_prefetch(fake_client):
    doc = fake_client.get("/cds-services").get_json()
    hooks = {s["id"]: s["hook"] for s in doc["services"]}
    assert hooks == {"ir-risk": "patient-view", "ir-risk-order-select": "order-select"}
    for s in doc["services"]:
        assert s["description"] and s["title"]
        p = s["prefetch"]
        assert set(p) == {"patient", "anthropometry", "labs", "conditions", "medicationRequests",
                          "medicationStatements", "familyHistory"}
        assert p["patient"] == "Patient/{{context.patientId}}"
        assert "http://loinc.org|1558-6" in p["labs"] and "_sort=-date" in p["labs"]
        assert "http://loinc.org|8280-0" in p["anthropometry"]
        assert p["medicationRequests"].endswith("&status=active")
        for v in p.values():
            assert "null" not in v and v


# ------------------------------------------------------------------ patient-view

def test_patient_view_full_prefetch_card(fake_client):
    body = call(fake_client, "ir-risk", hook_request("complete", prefetch=prefetch_for("complete"))).get_json()
    (card,) = body["cards"]
    assert card["indicator"] == "warning"                      # FakeCore: 7 points -> very_high
    assert card["summary"] == ("Very high likelihood of insulin resistance, HOMA-IR above 3.51 (75th percentile of US "
                               "adults without diabetes): score 7/10")
    assert "**Top contributing factors**" in card["detail"] and "Ectopic fat" in card["detail"]
    assert "- HOMA-IR: 4.7, cut-off >= 2.5 (flagged)" in card["detail"] and "not a diagnosis" in card["detail"]
    assert "Indices not computed (inputs missing):** TyG index" in card["detail"]
    assert card["source"]["url"] == "https://cds.example.org/v1/knowledge"


@pytest.mark.parametrize("name", PATIENTS)
def test_patient_view_every_fixture_gives_schema_valid_answer(fake_client, name):
    call(fake_client, "ir-risk", hook_request(name, prefetch=prefetch_for(name)))


def test_card_uuids_unique_across_calls(fake_client):
    a = call(fake_client, "ir-risk", hook_request("complete", prefetch=prefetch_for("complete"))).get_json()
    b = call(fake_client, "ir-risk", hook_request("complete", prefetch=prefetch_for("complete"))).get_json()
    assert a["cards"][0]["uuid"] != b["cards"][0]["uuid"]


def test_missing_prefetch_fetched_from_local_fhir_server(fake_client):
    full = call(fake_client, "ir-risk", hook_request("complete", prefetch=prefetch_for("complete"))).get_json()
    with FhirServer("complete") as server:
        body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "labs", "familyHistory",
                                                             "patient"),
                            fhirServer=server.base,
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read",
                                               "subject": "riskservice"})
        fetched = call(fake_client, "ir-risk", body).get_json()
    paths = server.requests
    assert any(p.startswith("/fhir/Patient/p-complete") for p in paths)
    assert any(p.startswith("/fhir/Observation?patient=p-complete&code=") for p in paths)
    assert any("_offset=" in p for p in paths)                 # followed the next link (paged)
    assert any(p.startswith("/fhir/FamilyMemberHistory?patient=p-complete") for p in paths)
    assert set(server.auth_headers) == {"Bearer test-token"}
    strip = lambda c: {k: v for k, v in c.items() if k != "uuid"}  # noqa: E731
    assert [strip(c) for c in fetched["cards"]] == [strip(c) for c in full["cards"]]


def test_everything_fetched_when_no_prefetch(fake_client):
    with FhirServer("molar") as server:
        body = hook_request("molar", fhirServer=server.base,
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
        out = call(fake_client, "ir-risk", body).get_json()
    assert len(out["cards"]) == 1 and len(server.requests) >= 7


def test_fetch_errors_degrade_to_a_card_that_says_so(fake_client):
    with FhirServer("complete", fail_types=("Condition",)) as server:
        body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "conditions"),
                            fhirServer=server.base,
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
        card = call(fake_client, "ir-risk", body).get_json()["cards"][0]
    assert len([p for p in server.requests if p.startswith("/fhir/Condition")]) == 1   # no retry storm
    assert "did not supply:** conditions" in card["detail"]


def test_wrong_token_means_no_patient_and_412(fake_client):
    with FhirServer("complete", token="other") as server:
        body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "patient"),
                            fhirServer=server.base,
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
        call(fake_client, "ir-risk", body, status=412)


def test_missing_patient_without_fhir_server_is_412(fake_client):
    call(fake_client, "ir-risk", hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "patient")),
         status=412)


def test_missing_keys_without_server_still_scored(fake_client):
    body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "labs"))
    card = call(fake_client, "ir-risk", body).get_json()["cards"][0]
    assert "did not supply:** labs" in card["detail"]


def test_null_prefetch_key_means_no_data_and_is_not_fetched(fake_client):
    prefetch = prefetch_for("complete")
    prefetch["labs"] = None
    with FhirServer("complete") as server:
        body = hook_request("complete", prefetch=prefetch, fhirServer=server.base,
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
        call(fake_client, "ir-risk", body)
    assert server.requests == []


@pytest.mark.parametrize("server", ["http://ehr.example.org/fhir", "https://ehr.example.org/fhir",
                                    "http://127.0.0.1:9/fhir", "http://localhost/fhir", "http://[::1]/fhir"])
def test_fhir_server_off_the_allowlist_gets_no_request_and_no_token(fake_client, server, caplog):
    """Without an allow-list entry nothing is fetched (the token would go with it): the card says so."""
    body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "labs"),
                        fhirServer=server,
                        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                           "scope": "patient/*.read", "subject": "rs"})
    with caplog.at_level(logging.WARNING, logger="riskservice.ehr"):
        card = call(fake_client, "ir-risk", body).get_json()["cards"][0]
    assert "did not supply:** labs" in card["detail"]
    assert "fhirServer is not allow-listed" in caplog.text


def test_local_server_not_on_the_allowlist_is_never_called(fake_client):
    with FhirServer("complete") as server:
        body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "patient"),
                            fhirServer=server.base.replace("/fhir", "/other"),
                            fhirAuthorization={"access_token": "test-token", "token_type": "Bearer",
                                               "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
        call(fake_client, "ir-risk", body, status=412)
    assert server.requests == []


def test_too_little_data_no_card_and_a_phi_free_log(fake_client, caplog):
    prefetch = prefetch_for("sparse")
    prefetch["anthropometry"] = None
    with caplog.at_level(logging.INFO, logger="riskservice.ehr"):
        out = call(fake_client, "ir-risk", hook_request("sparse", prefetch=prefetch)).get_json()
    assert out == {"cards": []}
    assert "too little data" in caplog.text
    assert "p-sparse" not in caplog.text and "1980" not in caplog.text


@pytest.mark.parametrize("mutate,status", [
    (lambda b: b.update(hook="order-sign"), 400),
    (lambda b: b.pop("hookInstance"), 400),
    (lambda b: b["context"].pop("patientId"), 400),
    (lambda b: b.update(fhirAuthorization={"access_token": "x"}), 400),
])
def test_malformed_calls(fake_client, mutate, status):
    body = hook_request("complete", prefetch=prefetch_for("complete"))
    mutate(body)
    call(fake_client, "ir-risk", body, status=status)


def test_unknown_service_404(fake_client):
    assert fake_client.post("/cds-services/nope", json={}).status_code == 404


# ------------------------------------------------------------------ order-select

def _draft(med_id, coding, text):
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": med_id, "status": "draft", "intent": "order",
        "medicationCodeableConcept": {"coding": coding, "text": text},
        "subject": {"reference": "Patient/p-molar"}}}]}


@pytest.mark.parametrize("coding,text,klass,mechanism", [
    ([{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "61381", "display": "olanzapine"}],
     "olanzapine 10 mg tablet", "Atypical antipsychotics", "weight gain"),
    ([{"system": "http://www.whocc.no/atc", "code": "H02AB06", "display": "prednisolone"}],
     "prednisolone 5 mg tablet", "Systemic glucocorticoids", "hepatic gluconeogenesis"),
])
def test_order_select_warns_for_ir_worsening_drug(fake_client, coding, text, klass, mechanism):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    body["context"].update(selections=["MedicationRequest/draft-1"], draftOrders=_draft("draft-1", coding, text))
    (card,) = call(fake_client, "ir-risk-order-select", body).get_json()["cards"]
    assert card["indicator"] == "warning"
    assert klass in card["summary"] and "band" in card["summary"]
    assert mechanism in card["detail"].lower() and "current insulin-resistance band:** " in card["detail"]


def test_order_select_silent_for_other_drugs(fake_client):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    body["context"].update(selections=["MedicationRequest/draft-1"], draftOrders=_draft(
        "draft-1", [{"system": "http://www.whocc.no/atc", "code": "C09AA05", "display": "ramipril"}], "ramipril"))
    assert call(fake_client, "ir-risk-order-select", body).get_json() == {"cards": []}


def test_order_select_only_selected_drafts(fake_client):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    body["context"].update(selections=["MedicationRequest/other"], draftOrders=_draft(
        "draft-1", [{"system": "http://www.whocc.no/atc", "code": "H02AB06"}], "prednisolone"))
    assert call(fake_client, "ir-risk-order-select", body).get_json() == {"cards": []}


def test_order_select_needs_draft_orders(fake_client):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    call(fake_client, "ir-risk-order-select", body, status=400)


# ------------------------------------------------------------------ feedback, CORS

def test_feedback_counted_not_stored(fake_client, fake_app):
    fb = {"feedback": [{"card": "abc", "outcome": "overridden", "outcomeTimestamp": "2026-11-20T10:00:00Z",
                        "overrideReason": {"userComment": "patient already on it"}},
                       {"card": "def", "outcome": "accepted", "acceptedSuggestions": [],
                        "outcomeTimestamp": "2026-11-20T10:01:00Z"}]}
    assert fake_client.post("/cds-services/ir-risk/feedback", json=fb).status_code == 200
    m = fake_app.extensions["riskservice_ehr_metrics"]
    assert m["cds_feedback:ir-risk:overridden"] == 1 and m["cds_feedback:ir-risk:accepted"] == 1
    assert "patient already on it" not in repr(fake_app.extensions)
    bad = {"feedback": [{"card": "abc", "outcome": "maybe", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]}
    assert fake_client.post("/cds-services/ir-risk/feedback", json=bad).status_code == 422
    assert fake_client.post("/cds-services/nope/feedback", json=fb).status_code == 404


def test_cors_only_for_allow_listed_origins(fake_app, fake_client):
    from riskservice.api import headers
    headers.init_app(fake_app)  # the service's single, app-wide CORS mechanism, as create_app installs it
    fake_app.config["CDS_CORS_ORIGINS"] = ["https://sandbox.cds-hooks.org"]
    ok = fake_client.options("/cds-services/ir-risk", headers={"Origin": "https://sandbox.cds-hooks.org",
                                                          "Access-Control-Request-Method": "POST"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    other = fake_client.get("/cds-services", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_summary_stays_under_140_chars_and_names_the_outcome():
    short = "HOMA-IR above 3.51 (75th percentile of US adults without diabetes)"
    resp = {"rules": {"points": 123456789, "max_points": 987654321, "band": "very_high"},
            "outcome": {"short_text": short + " x" * 100}, "model": {"probability": 0.123456}}
    assert len(cds_hooks.summary_for(resp)) < 140
    resp["rules"], resp["outcome"] = {"points": 11, "max_points": 33, "band": "high"}, {"short_text": short}
    assert cds_hooks.summary_for(resp) == f"High likelihood of insulin resistance, {short}: score 11/33; p=0.12"
    resp["measured"] = {"leads": True, "homa_ir": {"value": 4.91, "status": "above"}}
    assert cds_hooks.summary_for(resp) == f"Measured HOMA-IR 4.91 (above): insulin resistance is {short}"
    assert cds_hooks.summary_for({"applicable": False, "not_applicable": [{"field": "known_diabetes"}]}) == \
        "Insulin-resistance estimate does not apply (known diabetes)"


def test_token_and_patient_never_logged(fake_client, caplog):
    # INFO for every logger (production level). At DEBUG, urllib3 itself logs request URLs, which
    # contain the patient id of the FHIR search: never run production at DEBUG (docs/ehr.md).
    with caplog.at_level(logging.INFO):
        with FhirServer("complete", fail_types=("Condition",)) as server:
            body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "conditions", "labs"),
                                fhirServer=server.base,
                                fhirAuthorization={"access_token": "secret-token-123", "token_type": "Bearer",
                                                   "expires_in": 300, "scope": "patient/*.read", "subject": "rs"})
            server.token = "secret-token-123"
            call(fake_client, "ir-risk", body)
    assert "secret-token-123" not in caplog.text
    assert "p-complete" not in caplog.text and "1974" not in caplog.text


def test_lookback_from_app_config(fake_app, fake_client):
    fake_app.config["EHR_LOOKBACK_LAB_DAYS"] = 10
    ra = fake_client.post("/v1/fhir/score?as_of=2026-11-20", json=load_bundle("complete")).get_json()
    assert "Observation/c-glu" not in {b["reference"] for b in ra["basis"]}
    assert "Observation/c-wt" in {b["reference"] for b in ra["basis"]}


def test_order_select_with_contained_medication(fake_client):
    body = hook_request("molar", hook="order-select", prefetch=prefetch_for("molar"))
    draft = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "draft-2", "status": "draft", "intent": "order",
        "contained": [{"resourceType": "Medication", "id": "m1",
                       "code": {"coding": [{"system": "http://www.whocc.no/atc", "code": "N05AH04"}]}}],
        "medicationReference": {"reference": "#m1"}, "subject": {"reference": "Patient/p-molar"}}}]}
    body["context"].update(selections=["MedicationRequest/draft-2"], draftOrders=draft)
    (card,) = call(fake_client, "ir-risk-order-select", body).get_json()["cards"]
    assert "Atypical antipsychotics" in card["summary"]


def test_unreachable_fhir_server_is_not_hammered(fake_app, fake_client, caplog):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                          # nothing listens there now
    fake_app.config["CDS_FHIR_SERVER_ALLOWLIST"] = [f"http://127.0.0.1:{port}/fhir"]
    body = hook_request("complete", prefetch=strip_keys(prefetch_for("complete"), "labs", "conditions"),
                        fhirServer=f"http://127.0.0.1:{port}/fhir",
                        fhirAuthorization={"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                           "scope": "patient/*.read", "subject": "rs"})
    with caplog.at_level(logging.WARNING, logger="riskservice.ehr"):
        card = call(fake_client, "ir-risk", body).get_json()["cards"][0]
    assert "did not supply:** labs, conditions" in card["detail"]
    assert "unreachable; 1 further queries skipped" in caplog.text


def test_prefetched_patient_must_match_context(fake_client):
    body = hook_request("complete", prefetch=prefetch_for("complete"))
    body["context"]["patientId"] = "someone-else"
    call(fake_client, "ir-risk", body, status=400)


def test_malformed_prefetch_bundle_is_400(fake_client):
    prefetch = prefetch_for("complete")
    prefetch["labs"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"fullUrl": "x"}]}
    call(fake_client, "ir-risk", hook_request("complete", prefetch=prefetch), status=400)
