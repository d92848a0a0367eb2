"""`riskservice train` reproduces the shipped model; user CSVs and outcome rules work or fail clearly."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskservice.model import load_model
from riskservice.model.artifact import find_manifest
from riskservice.model.commands import train as train_cmd
from riskservice.model.spec import TrainingDataError
from riskservice.model.train import train
from riskservice.model.training_data import derive_outcome


@pytest.fixture(scope="module")
def retrained(tmp_path_factory):
    """The real default training run (about 3 s), through the click command."""
    out = tmp_path_factory.mktemp("retrain")
    res = CliRunner().invoke(train_cmd, ["--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_train_reproduces_shipped_metrics(retrained, models_dir):
    shipped = json.loads(find_manifest(models_dir).read_text())
    new = json.loads(find_manifest(retrained).read_text())
    assert new["metrics"]["cv"]["auc"]["auc"] == pytest.approx(shipped["metrics"]["cv"]["auc"]["auc"], abs=1e-6)
    assert new["metrics"]["cv"]["fold_auc"] == pytest.approx(shipped["metrics"]["cv"]["fold_auc"], abs=1e-6)
    for k in ("brier", "calibration_slope", "calibration_intercept"):
        assert new["metrics"]["cv"][k] == pytest.approx(shipped["metrics"]["cv"][k], abs=5e-4)
    for f in ("calibration.png", "coefficients.png", "MODEL_CARD_dysglycaemia.md"):
        assert (retrained / f).stat().st_size > 1000


def test_train_reproduces_the_shipped_model_numerically(retrained, models_dir, pipeline):
    """Issue 10: reproducibility is numerical, not bytewise (another CPU may differ in the last bits).

    Retraining gives the shipped coefficients (and imputer and scaler values) to 1e-9 and the same
    cross-validated AUC to 1e-6; both the joblib and the JSON it writes carry them, and the shipped
    files keep their own sha256 checks (tests/model/test_model_artifact.py).
    """
    from riskservice.model.sklearn_io import extract_parameters, load_pipeline

    shipped = json.loads(find_manifest(models_dir).read_text())
    new = json.loads(find_manifest(retrained).read_text())
    assert new["training_data"]["sha256"] == shipped["training_data"]["sha256"]
    assert new["training_data"]["flow"] == shipped["training_data"]["flow"]
    assert [t["name"] for t in new["terms"]] == [t["name"] for t in shipped["terms"]]
    ref = extract_parameters(pipeline)
    got_joblib = extract_parameters(load_pipeline(retrained)[0])
    served = load_model(retrained)
    got_json = (served.fill_, served.mean_, served.scale_, served.coef_, served.intercept_)
    for got in (got_joblib, got_json):
        for a, b in zip(got, ref):
            assert np.allclose(a, b, rtol=0, atol=1e-9)
    assert new["metrics"]["cv"]["auc"]["auc"] == pytest.approx(shipped["metrics"]["cv"]["auc"]["auc"], abs=1e-6)
    assert new["metrics"]["apparent"]["auc"] == pytest.approx(shipped["metrics"]["apparent"]["auc"], abs=1e-6)
    ext_new, ext_old = new["external_validation"]["model_auc"]["auc"], shipped["external_validation"]["model_auc"]["auc"]
    assert ext_new == pytest.approx(ext_old, abs=1e-6)
    # the retrained JSON serves the same probabilities as the shipped one
    shipped_model = load_model(models_dir)
    for probe in shipped["serving"]["self_check"]["probes"]:
        assert served.predict_one(probe["input"])["probability"] == pytest.approx(
            shipped_model.predict_one(probe["input"])["probability"], abs=1e-9)


def test_train_writes_a_verified_json_next_to_the_joblib(retrained):
    m = json.loads(find_manifest(retrained).read_text())
    assert list(m)[list(m).index("artifact") + 1] == "serving"
    js = retrained / m["serving"]["file"]
    doc = json.loads(js.read_text())
    assert doc["exported_from"] == {"file": m["artifact"]["file"], "sha256": m["artifact"]["sha256"]}
    assert load_model(retrained).sha256 == m["artifact"]["sha256"]


def test_model_card_has_the_required_sections(models_dir):
    card = (models_dir / "MODEL_CARD_dysglycaemia.md").read_text()
    for s in ("## Intended use", "## Training data", "## Outcome", "## Performance", "## Calibration",
              "## Limitations", "## Ethical considerations", "calibration.png", "coefficients.png",
              "Reaven & Miller", "NOT a measured insulin-resistance probability"):
        assert s in card, s
    m = json.loads(find_manifest(models_dir).read_text())
    assert m["artifact"]["sha256"] in card and m["serving"]["sha256"] in card and m["serving"]["file"] in card
    assert f"{m['metrics']['cv']['auc']['auc']:.3f}" in card


def _user_frame(n=400, seed=1):
    rng = np.random.default_rng(seed)
    age = rng.uniform(20, 80, n)
    bmi = rng.uniform(18, 45, n)
    glucose = 80 + 0.5 * bmi + rng.normal(0, 8, n)
    insulin = np.exp(0.06 * bmi + rng.normal(0, 0.4, n))
    df = pd.DataFrame({
        "age": age.round(1), "sex": rng.choice(["female", "male"], n), "bmi": bmi.round(1),
        "waist": (bmi * 3.3 + rng.normal(0, 6, n)).round(1), "height": rng.uniform(150, 195, n).round(1),
        "smoking": rng.choice(["never", "former", "current"], n),
        "fasting_glucose": glucose.round(1), "fasting_insulin": insulin.round(2),
    })
    df.loc[::10, "waist"] = np.nan
    df["ir"] = (df["fasting_insulin"] * df["fasting_glucose"] / 405 >= 2.5).astype(int)
    return df


def test_user_csv_with_homa_rule(tmp_path):
    df = _user_frame()
    csv = tmp_path / "mine.csv"
    df.to_csv(csv, index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(train_cmd, ["--data", str(csv), "--outcome", "homa_ir>=2.5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    m = load_model(out)
    assert m.model_id == "user_logreg"
    assert "HOMA-IR" in m.outcome and "405" in m.outcome
    assert m.manifest["outcome"]["events"] == int(df["ir"].sum())
    # terms come only from the columns the CSV has (no HDL, activity, sleep, ethnicity here)
    assert "hdl_cholesterol" not in m.term_names and "bmi" in m.term_names
    r = m.predict_one({"age": 50, "sex": "male", "bmi": 30})
    assert abs(sum(c["log_odds"] for c in r["contributions"]) - (r["logit"] - r["baseline_logit"])) < 1e-12
    # a 0/1 column gives the same label
    out2 = tmp_path / "out2"
    res = CliRunner().invoke(train_cmd, ["--data", str(csv), "--outcome", "ir", "--out", str(out2)])
    assert res.exit_code == 0, res.output
    assert load_model(out2).manifest["outcome"]["events"] == int(df["ir"].sum())


def test_homa_ir_value_matches_reference_vector():
    # clinical-facts.md 1.1 test vector: insulin 15 uU/mL, glucose 100 mg/dL -> 3.7037 with /405
    df = pd.DataFrame({"fasting_insulin": [15.0, 15.0, None], "fasting_glucose": [100.0, 100.0, 90.0]})
    y, _ = derive_outcome(df, "homa_ir>=3.7037")
    assert y[0] == 1.0 and np.isnan(y[2])
    y, _ = derive_outcome(df, "homa_ir>=3.704")
    assert y[0] == 0.0


@pytest.mark.parametrize("args,msg", [
    (["--outcome", "homa_ir>=2.5"], "--outcome applies to --data only"),
    (["--data", "{csv}", "--outcome", "homa_ir>=2.5"], "fasting_insulin"),
    (["--data", "{csv}"], "--outcome is required"),
    (["--data", "{csv}", "--outcome", "nosuchcol"], "not in the data"),
    (["--data", "{csv}", "--outcome", "homa_ir => 2"], "cannot parse"),
    (["--data", "{noage}", "--outcome", "ir"], "required columns missing: ['age']"),
    (["--data", "{csv}", "--outcome", "bmi"], "must be 0/1"),
])
def test_clear_errors(tmp_path, args, msg):
    df = _user_frame(60).drop(columns=["fasting_insulin"])
    csv = tmp_path / "a.csv"
    df.to_csv(csv, index=False)
    noage = tmp_path / "b.csv"
    df.drop(columns=["age"]).to_csv(noage, index=False)
    args = [a.format(csv=csv, noage=noage) for a in args] + ["--out", str(tmp_path / "o")]
    res = CliRunner().invoke(train_cmd, args)
    assert res.exit_code == 2, res.output
    assert msg in res.output
    assert not (tmp_path / "o").exists()


def test_train_function_raises_training_data_error(tmp_path):
    with pytest.raises(TrainingDataError):
        train(data=tmp_path / "missing.csv", outcome="x", out=tmp_path / "o", log=lambda *a: None)


def test_refuses_to_mix_models_in_one_directory(tmp_path, models_copy):
    df = _user_frame(200)
    csv = tmp_path / "mine.csv"
    df.to_csv(csv, index=False)
    res = CliRunner().invoke(train_cmd, ["--data", str(csv), "--outcome", "ir", "--out", str(models_copy)])
    assert res.exit_code == 2 and "already holds another model" in res.output
    assert len(list(models_copy.glob("*.manifest.json"))) == 1
