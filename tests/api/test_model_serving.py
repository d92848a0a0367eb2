"""The model through the real app: on by default, off by switch, refused when tampered."""
import shutil

import pytest

from riskservice import create_app
from riskservice.app import default_model_dir
from riskservice.model import ModelIntegrityError


def test_both_model_blocks_in_a_score(two_model_dir, kb):
    client = create_app({"TESTING": True, "MODEL_DIR": str(two_model_dir)}).test_client()
    body = client.post("/v1/score", json={"age": 52, "sex": "male", "bmi": 31.2, "waist": 104}).get_json()
    m = body["model"]
    assert 0 < m["probability"] < 1 and m["withheld"] is None
    assert m["outcome"] == kb.ruleset["outcome"]["text"] == m["outcome_definition"]
    assert m["model_id"] == "nhanes1518_insulin_resistance_logreg"
    total = sum(c["log_odds"] for c in m["contributions"])
    assert total == pytest.approx(m["logit"] - m["baseline_logit"], abs=1e-9)
    assert body["meta"]["model_version"] == m["version"] and body["meta"]["model_id"] == m["model_id"]
    d = body["dysglycaemia"]
    assert 0 < d["probability"] < 1 and d["withheld"] is None and d["model_id"] == "nhanes1718_dysglycaemia_logreg"
    assert d["outcome"] == kb.ruleset["dysglycaemia"]["text"]


def test_without_the_insulin_resistance_model_its_probability_is_null_with_the_reason(kb, tmp_path):
    import shutil

    from riskservice.app import default_model_dir
    only = tmp_path / "models"
    only.mkdir()
    for f in default_model_dir().glob("nhanes1718_dysglycaemia_logreg-1.0.0.*"):
        shutil.copy(f, only)
    client = create_app({"TESTING": True, "MODEL_DIR": str(only)}).test_client()
    body = client.post("/v1/score", json={"age": 52, "sex": "male", "bmi": 31.2}).get_json()
    assert body["model"]["probability"] is None and "not installed" in body["model"]["withheld"]
    assert 0 < body["dysglycaemia"]["probability"] < 1 and "model_id" not in body["meta"]


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
