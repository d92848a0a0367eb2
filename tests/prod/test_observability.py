"""/readyz, /metrics, X-Request-ID and the PHI-free structured access log."""
import json
import logging

from riskservice import create_app
from riskservice.api.accesslog import JsonFormatter

# Values no real request would carry, so any occurrence in a log line is a leak.
DISTINCTIVE = {"age": 87.123, "sex": "female", "weight": 123.456, "height": 171.717, "waist": 119.191,
               "fasting_glucose": 6.789, "fasting_glucose_unit": "mmol/L", "fasting_insulin": 23.456, "fasting_insulin_unit": "uU/mL",
               "triglycerides": 2.345, "triglycerides_unit": "mmol/L", "hdl_cholesterol": 1.0987,
               "hdl_cholesterol_unit": "mmol/L", "medications": ["zzqvaxolimab"], "ethnicity": "south_asian"}
NEEDLES = ["87.123", "123.456", "171.717", "119.191", "6.789", "23.456", "2.345", "1.0987",
           "zzqvaxolimab", "south_asian"]


def without_clock(text: str) -> str:
    """Log text without the two numbers the service writes itself, the timestamp and the latency:
    a time of 13:45:12.345 or a latency of 12.345 ms must not pass for the needle 2.345."""
    import re
    return re.sub(r'"(?:ts|latency_ms)":\s*(?:"[^"]*"|[-+0-9.eE]+|null)', '"_":0', text)


def metric(client, line_start):
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_readyz_reports_knowledge_and_model(client, kb):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["knowledge"]["ruleset_sha256"] == kb.sha256
    assert body["model"]["state"] == "loaded" and body["model"]["models"]["dysglycaemia"]["version"]
    for role in ("insulin_resistance", "dysglycaemia"):     # each role loaded, or absent with the reason
        assert (role in body["model"]["models"]) != (role in body["model"]["absent"])


def test_readyz_with_model_off_is_ready_and_says_so():
    body = create_app({"TESTING": True, "MODEL": "off"}).test_client().get("/readyz").get_json()
    assert body["status"] == "ready" and body["model"]["state"] == "off"


def test_readyz_is_503_problem_with_reason_when_unapproved_knowledge_would_be_refused():
    r = create_app({"TESTING": True, "MODEL": "off", "REQUIRE_APPROVED": True}).test_client().get("/readyz")
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert "REQUIRE_APPROVED" in r.get_json()["reasons"][0]


def test_metrics_count_requests_per_route_template_and_status(client, patient):
    line = 'riskservice_http_requests_total{method="POST",route="/v1/score",status="200"}'
    before = metric(client, line)
    client.post("/v1/score", json=patient)
    client.post("/v1/score", json={"age": 1})
    assert metric(client, line) == before + 1
    assert metric(client, 'riskservice_http_requests_total{method="POST",route="/v1/score",status="422"}') >= 1
    assert metric(client, 'riskservice_http_request_duration_seconds_count{method="POST",route="/v1/score",'
                          'status="200"}') >= 1
    client.get("/no/such/path/123")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'route="<unmatched>"' in text and "/no/such/path" not in text


def test_metrics_count_batch_rows_and_show_the_model(client):
    before = metric(client, "riskservice_batch_rows_scored_total")
    client.post("/v1/score/batch", data="age,sex\n50,male\n61,female\n40,x\n", content_type="text/csv").get_data()
    client.post("/v1/score/batch", json=[{"age": 50, "sex": "male"}])
    assert metric(client, "riskservice_batch_rows_scored_total") == before + 4
    assert metric(client, 'riskservice_build_info{model_id="nhanes1718_dysglycaemia_logreg"') == 1


def test_request_id_is_echoed_or_generated(client, patient):
    assert client.post("/v1/score", json=patient, headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/nope", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated and " " not in generated


def test_access_log_is_structured_and_carries_no_patient_value(client, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post("/v1/score", json=DISTINCTIVE, headers={"X-Request-ID": "phi-test-1"})
    assert r.status_code == 200
    client.post("/v1/score", json={**DISTINCTIVE, "age": 5.4321})  # a 422 whose message names the value
    client.post("/v1/score/batch", json=[DISTINCTIVE])
    formatter = JsonFormatter()
    lines = [formatter.format(rec) for rec in caplog.records]
    text = without_clock("\n".join(lines + [caplog.text]))
    for needle in NEEDLES + ["5.4321"]:
        assert needle not in text, f"{needle} leaked into the logs"
    access = [json.loads(line) for line in lines if '"riskservice.access"' in line]
    mine = next(a for a in access if a["request_id"] == "phi-test-1")
    assert mine["route"] == "/v1/score" and mine["status"] == 200 and mine["method"] == "POST"
    assert mine["latency_ms"] > 0 and mine["request_bytes"] > 0 and mine["response_bytes"] > 1000


def test_ehr_events_are_prometheus_counts(client):
    line = 'riskservice_ehr_events_total{event="cds_feedback:ir-risk:accepted"}'
    before = metric(client, line)
    fb = {"feedback": [{"card": "c1", "outcome": "accepted", "outcomeTimestamp": "2026-11-20T10:00:00Z"}]}
    assert client.post("/cds-services/ir-risk/feedback", json=fb).status_code == 200
    assert metric(client, line) == before + 1
