"""A TEST-ONLY insulin-resistance model artifact, so that two models (insulin resistance and
dysglycaemia) can be served before the real insulin-resistance model ships in models/.

The numbers below are NOT a fitted model: they are made up so that each new term (waist,
hypertension, log_triglycerides, hba1c) moves the logit in a visible, known direction. The files are
written to a temporary directory (never to models/), next to a copy of the shipped dysglycaemia
model, in the artifact format ``riskservice.model.artifact.load_model`` verifies: both files named
by sha256 in the manifest, the JSON's numbers equal to the manifest's, and self-check probes. The
"joblib" is a placeholder (serving only hashes it); the probes' probabilities are computed from the
same numbers with the formula in ``riskservice.model.predict``.
"""
from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

MODEL_ID, VERSION = "test_fixture_insulin_resistance_logreg", "2.0.0"
#: (term, mean, scale, coefficient): made up for tests, not estimates
TERMS = (
    ("age", 47.0, 17.0, 0.05),
    ("male", 0.48, 0.5, 0.10),
    ("eth_african", 0.2, 0.4, -0.20),
    ("eth_asian", 0.12, 0.33, 0.15),
    ("eth_hispanic", 0.22, 0.41, 0.10),
    ("eth_other", 0.05, 0.22, 0.0),
    ("bmi", 29.0, 6.5, 0.90),
    ("waist", 99.0, 16.0, 0.60),
    ("hdl_cholesterol", 53.0, 15.0, -0.30),
    ("hypertension", 0.3, 0.46, 0.20),
    ("log_triglycerides", 4.6, 0.5, 0.40),
    ("hba1c", 5.5, 0.4, 0.25),
    ("inactive", 0.5, 0.5, 0.15),
    ("sleep_short", 0.3, 0.46, 0.05),
    ("family_history", 0.2, 0.4, 0.10),
    ("gestational_diabetes", 0.02, 0.14, 0.05),
    ("labs_given_hdl", 0.0, 1.0, 0.02),
    ("labs_given_tg", 0.0, 1.0, -0.03),
    ("labs_given_a1c", 0.0, 1.0, 0.01),
    ("labs_given_hdl_tg", 0.0, 1.0, 0.04),
    ("labs_given_hdl_a1c", 0.0, 1.0, -0.02),
    ("labs_given_tg_a1c", 0.0, 1.0, 0.03),
    ("labs_given_hdl_tg_a1c", 0.0, 1.0, -0.05),
)
INTERCEPT = -1.2
PROBES = (
    {"age": 45, "sex": "female"},
    {"age": 60, "sex": "male", "ethnicity": "asian", "bmi": 33.0, "waist": 112.0, "hdl_cholesterol": 35.0,
     "hypertension": True, "fasting": True, "triglycerides": 220.0, "hba1c": 5.9},
    {"age": 30, "sex": "female", "bmi": 21.0, "triglycerides": 300.0, "fasting": False,
     "gestational_diabetes": True, "family_history_diabetes": "first_degree", "mvpa_minutes_per_week": 200.0,
     "sleep_hours_per_night": 5.5},
)


def _probability(probe: dict) -> float:
    from riskservice.model.features import TERM_INDEX, engineer_one

    values, _ = engineer_one(probe)
    logit = INTERCEPT
    for name, mean, scale, coef in TERMS:
        x = values[TERM_INDEX[name]]
        logit += coef * (((mean if x is None else x) - mean) / scale)
    return 1.0 / (1.0 + math.exp(-logit))


def write_ir_fixture(directory: Path) -> Path:
    """Write the test insulin-resistance model into ``directory``; returns its manifest path."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{MODEL_ID}-{VERSION}"
    joblib = directory / f"{stem}.joblib"
    joblib.write_bytes(b"test fixture: a placeholder, never opened (serving only hashes it)\n")
    joblib_sha = hashlib.sha256(joblib.read_bytes()).hexdigest()
    terms = [{"name": n, "impute_value": mean, "scaler_mean": mean, "scaler_scale": scale, "coef": coef}
             for n, mean, scale, coef in TERMS]
    serving = {"format": "riskservice-logreg-json", "format_version": 1, "model_id": MODEL_ID, "version": VERSION,
               "exported_from": {"file": joblib.name, "sha256": joblib_sha}, "terms": terms, "intercept": INTERCEPT,
               "training_ranges": {"age": {"min": 20.0, "max": 80.0, "unit": "years"}}}
    jpath = directory / f"{stem}.json"
    jpath.write_text(json.dumps(serving, indent=1))
    manifest = {
        "manifest_version": 1, "model_id": MODEL_ID, "version": VERSION, "role": "insulin_resistance",
        "artifact": {"file": joblib.name, "sha256": joblib_sha},
        "serving": {"file": jpath.name, "sha256": hashlib.sha256(jpath.read_bytes()).hexdigest(),
                    "self_check": {"probes": [{"input": p, "probability": _probability(p)} for p in PROBES]}},
        "outcome": {"definition": "TEST FIXTURE (made-up numbers): insulin resistance, HOMA-IR above 3.51"},
        "terms": terms, "intercept": INTERCEPT, "versions": {},
        "training_ranges": serving["training_ranges"],
        "not_in_model": [{"factor": "medications", "reason": "test fixture"}],
    }
    mpath = directory / f"{stem}.manifest.json"
    mpath.write_text(json.dumps(manifest, indent=1))
    return mpath


def two_model_dir(directory: Path) -> Path:
    """A model directory with the shipped dysglycaemia model and the test insulin-resistance model."""
    from riskservice.app import default_model_dir

    directory.mkdir(parents=True, exist_ok=True)
    for path in default_model_dir().glob("nhanes1718_dysglycaemia_logreg-*"):
        shutil.copy2(path, directory / path.name)
    write_ir_fixture(directory)
    return directory
