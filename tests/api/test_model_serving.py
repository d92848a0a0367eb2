"""The model through the real app: on by default, off by switch, refused when tampered."""
import shutil

import pytest

from riskservice import create_app
from riskservice.app import default_model_dir
from riskservice.model import ModelIntegrityError


def test_model_block_in_every_score(client, patient):
    body = client.post("/v1/score", json=patient).get_json()
    m = body["model"]
    assert 0 < m["probability"] < 1
    assert "NOT a measured insulin-resistance probability" in m["outcome"]
    total = sum(c["log_odds"] for c in m["contributions"])
    assert total == pytest.approx(m["logit"] - m["baseline_logit"], abs=1e-9)
    assert {x["factor"] for x in m["not_in_model"]} >= {"medications", "family_history"}
    assert body["meta"]["model_version"] == m["version"]


def test_model_off_gives_null(patient):
    client = create_app({"TESTING": True, "MODEL": "off"}).test_client()
    body = client.post("/v1/score", json=patient).get_json()
    assert body["model"] is None and "model_id" not in body["meta"]
    # the points do not depend on the model: BMI, waist, HDL and triglycerides (when fasting) score; age, family
    # history, hs-CRP, glucose and prednisolone are recorded with 0 points
    with_model = create_app({"TESTING": True}).test_client().post("/v1/score", json=patient).get_json()
    assert body["rules"]["points"] == with_model["rules"]["points"]
    by = {c["factor"]: c["points"] for c in body["rules"]["contributions"]}
    assert by["bmi"] > 0 and by["waist"] > 0 and by["age"] == 0 and by["fasting_glucose"] == 0


def test_model_off_from_environment(monkeypatch, patient):
    monkeypatch.setenv("RISKSERVICE_MODEL", "off")
    assert create_app({"TESTING": True}).test_client().post("/v1/score", json=patient).get_json()["model"] is None


def test_tampered_artifact_refuses_start_up(tmp_path):
    target = tmp_path / "models"
    shutil.copytree(default_model_dir(), target)
    artifact = next(target.glob("*.joblib"))
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        create_app({"TESTING": True, "MODEL_DIR": str(target)})
