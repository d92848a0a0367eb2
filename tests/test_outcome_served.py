"""Issue 20 through the real server (gunicorn, production config) with both models: the measured
HOMA-IR leads, both probabilities carry their outcomes, and every surface names the outcome."""
import csv
import io
import json
import urllib.request

import pytest

from riskservice.core.knowledge import load_knowledge
from tests.paths import REPO
from tests.realserver import RealServer

pytestmark = pytest.mark.slow  # starts a real gunicorn

OUTCOME = load_knowledge().ruleset["outcome"]


@pytest.fixture(scope="module")
def base(tmp_path_factory, two_model_dir):
    with RealServer(tmp_path_factory.mktemp("outcome") / "server.log", RISKSERVICE_MODEL_DIR=str(two_model_dir)) as s:
        yield s.base


def post(url, body: bytes, ctype="application/json"):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype}, method="POST")
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.read()


def example(name) -> bytes:
    return (REPO / "examples" / name).read_bytes()


def test_single_answers_lead_with_the_measurement_or_give_both_probabilities(base):
    raw = post(base + "/v1/score?view=summary", example("patient.json"))
    summary = json.loads(raw)
    assert len(raw) <= 2048 and summary["leads"] == "measured_homa_ir"
    assert summary["measured_homa_ir"]["status"] == "borderline" and summary["measured_homa_ir"]["percentile"]
    assert summary["probability"]["value"] is None and summary["probability"]["withheld"]
    full = json.loads(post(base + "/v1/score?view=standard",
                           json.dumps({"age": 52, "sex": "male", "bmi": 31.2, "waist": 104}).encode()))
    assert full["leads"] == "risk_factor_estimate" and full["outcome"]["text"] == OUTCOME["text"]
    assert 0 < full["model"]["probability"] < 1 and 0 < full["dysglycaemia"]["probability"] < 1


def test_the_batch_carries_the_new_columns(base):
    out = list(csv.DictReader(io.StringIO(post(base + "/v1/score/batch", example("patients.csv"), "text/csv").decode())))
    by_id = {r["patient_id"]: r for r in out}
    assert (by_id["P001"]["leads"], by_id["P001"]["homa_ir_status"]) == ("measured_homa_ir", "borderline")
    assert by_id["P001"]["probability"] == "" and float(by_id["P001"]["measured_homa_ir"]) == pytest.approx(3.595, abs=1e-3)
    assert (by_id["P008"]["leads"], by_id["P008"]["homa_ir_status"]) == ("risk_factor_estimate", "not_valid")
    assert 0 < float(by_id["P008"]["probability"]) < 1 and "fasting: false" in by_id["P008"]["warnings"]
    assert 0 < float(by_id["P005"]["dysglycaemia_probability"]) < 1


def test_fhir_and_cds_name_the_outcome(base):
    ra = json.loads(post(base + "/v1/fhir/score?as_of=2026-11-20", example("bundle.json"), "application/fhir+json"))
    assert ra["prediction"][0]["outcome"]["text"] == OUTCOME["text"]
    cards = json.loads(post(base + "/cds-services/ir-risk", example("cds-patient-view.json")))["cards"]
    assert f"likelihood of insulin resistance, {OUTCOME['short_text']}" in cards[-1]["summary"]
    assert OUTCOME["text"] in cards[-1]["detail"]
