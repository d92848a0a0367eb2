"""Issue 7 over HTTP: ?audience=, the REQUIRE_APPROVED switch, statuses in /v1/knowledge, CLI."""
import json
from pathlib import Path

import jsonschema

from riskservice import create_app
from riskservice.cli import main
from riskservice.core.readability import fk_grade
from tests.core.test_explanation import numbers
from tests.core.test_review import approve_everything

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def published(name):
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


def test_audience_query_parameter(client, patient):
    clin = client.post("/v1/score", json=patient).get_json()
    pat = client.post("/v1/score?audience=patient", json=patient).get_json()
    assert clin["meta"]["audience"] == "clinician" and pat["meta"]["audience"] == "patient"
    assert numbers(pat) == numbers(clin)
    assert fk_grade(pat["explanation"]) <= 9
    published("response.schema.json").validate(pat)


def test_bad_audience_is_422_naming_the_parameter(client, patient):
    r = client.post("/v1/score?audience=doctor", json=patient)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert list(body["errors"]) == ["audience"] and "patient" in body["errors"]["audience"][0]
    published("error.schema.json").validate(body)


def test_strict_switch_refuses_with_503_problem(patient):
    app = create_app({"TESTING": True, "MODEL": "off", "REQUIRE_APPROVED": True})
    r = app.test_client().post("/v1/score", json=patient)
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["type"] == "/problems/unapproved-knowledge"
    assert body["unapproved_entries"]["drug_class:glucocorticoids"] == "draft"
    assert "not approved by clinical review" in body["detail"]
    published("error.schema.json").validate(body)


def test_strict_switch_from_the_environment(monkeypatch):
    monkeypatch.setenv("RISKSERVICE_REQUIRE_APPROVED", "true")
    app = create_app({"TESTING": True, "MODEL": "off"})
    assert app.extensions["riskservice"].require_approved is True
    monkeypatch.delenv("RISKSERVICE_REQUIRE_APPROVED")
    assert create_app({"TESTING": True, "MODEL": "off"}).extensions["riskservice"].require_approved is False


def test_strict_switch_serves_approved_knowledge(knowledge_copy, patient):
    approve_everything(knowledge_copy)
    app = create_app({"TESTING": True, "MODEL": "off", "REQUIRE_APPROVED": True,
                      "KNOWLEDGE_DIR": str(knowledge_copy)})
    r = app.test_client().post("/v1/score", json=patient)
    assert r.status_code == 200 and r.get_json()["meta"]["review_status"] == "approved"


def test_knowledge_endpoint_exposes_statuses(client):
    body = client.get("/v1/knowledge").get_json()
    assert body["review"]["require_approved"] is False
    entries = body["review"]["entries"]
    assert entries and all(e["review_status"] in ("draft", "under_review", "approved") for e in entries)
    assert all(e["reviewer_role"] and e["reviewed_on"] for e in entries)
    assert all("review_status" in m for m in body["mechanisms"])


def test_cli_audience_option(runner, patient):
    out = runner.invoke(main, ["score", "--no-model", "--audience", "patient", "-"], input=json.dumps(patient))
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["meta"]["audience"] == "patient"
    bad = runner.invoke(main, ["score", "--no-model", "--audience", "nurse", "-"], input=json.dumps(patient))
    assert bad.exit_code == 2
