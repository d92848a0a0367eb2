"""The shipped insulin-resistance model is the derive-points fit, served: its JSON loads and verifies, it
equals the fit's two-layer model with its lab-pattern terms on every NHANES adult in every lab combination,
and the joblib's predict_proba agrees with the served numbers."""
from __future__ import annotations

import json

import numpy as np
import pytest

from riskservice.model import ir_cohort as C
from riskservice.model import ir_validation as V
from riskservice.model.artifact import load_model
from tests.paths import REPO

MODELS = REPO / "models"
FIT = json.loads((MODELS / "points_fit.json").read_text())


@pytest.fixture(scope="module")
def served():
    return load_model(MODELS, role="insulin_resistance")


@pytest.fixture(scope="module")
def nhanes():
    co = C.load()
    prim = co.sample("primary")
    return co.frame[prim].reset_index(drop=True)


def test_the_shipped_model_is_the_fit_and_names_its_outcome(served, kb):
    m = served.manifest
    assert (m["model_id"], m["version"], m["role"]) == ("nhanes1518_insulin_resistance_logreg", "2.0.0",
                                                          "insulin_resistance")
    assert m["outcome"]["definition"] == kb.ruleset["outcome"]["text"]
    assert FIT["model_artifact"]["sha256"] == m["artifact"]["sha256"]
    names = [t["name"] for t in m["terms"]]
    assert names[-7:] == [t for t in FIT["fit"]["model"]["patterns"]]
    assert served.intercept_ == pytest.approx(FIT["fit"]["model"]["baseline"], abs=1e-9)
    for t in m["terms"]:
        assert t["coef"] / t["scaler_scale"] == pytest.approx(FIT["fit"]["model"]["coefficients"][t["name"]], abs=1e-9)


@pytest.mark.parametrize("labs", V.CONFIGS, ids=V.config_name)
def test_served_probabilities_equal_the_validated_model(kb, models, nhanes, labs):
    from riskservice.rows.batch import BatchScorer

    rows = nhanes.iloc[::4].reset_index(drop=True)
    out = BatchScorer(kb, models).score_columns(V.service_columns(rows, labs, V.canonical_units(kb)), len(rows))
    p = out["probability"].to_numpy(zero_copy_only=False).astype(float)
    want = 1 / (1 + np.exp(-V.model_columns(rows, FIT["fit"], labs)))
    np.testing.assert_allclose(p, want, rtol=0, atol=1e-9)


def test_the_joblib_predicts_what_the_json_serves(served):
    from riskservice.model import feature_columns as FC
    from riskservice.model import features as F
    from riskservice.model.artifact import probe_columns
    from riskservice.model.sklearn_io import load_pipeline

    pipe, m, _ = load_pipeline(MODELS, manifest=MODELS / "nhanes1518_insulin_resistance_logreg-2.0.0.manifest.json")
    probes = [p["input"] for p in m["serving"]["self_check"]["probes"]]
    idx = [F.TERM_INDEX[t["name"]] for t in m["terms"]]
    X = FC.engineer_columns(probe_columns(probes), len(probes))[:, idx]
    np.testing.assert_allclose(pipe.predict_proba(X)[:, 1], [served.predict_one(p)["probability"] for p in probes],
                               rtol=0, atol=1e-12)
