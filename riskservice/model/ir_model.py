"""The insulin-resistance probability model as a served artifact (joblib + JSON + manifest), written by
``riskservice derive-points`` from the same fit as the points.

The model is the fit's two layers with continuous terms (risk factors, then labs given the risk factors)
plus one calibration term per combination of labs given (``labs_given_*``). It is written as the scikit-learn
Pipeline(SimpleImputer(mean) -> StandardScaler -> LogisticRegression) the service's loader already verifies,
with the fit's numbers placed in it (the imputer's fill value = the term's weighted mean, so a missing input
contributes 0; the scaler's scale = the term's weighted SD; coef = beta x SD; intercept = the log-odds with
every term at its mean and no lab given). No refitting happens here: the Pipeline computes exactly the fit.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import ir_points as P

MODEL_ID = "nhanes1518_insulin_resistance_logreg"
MODEL_VERSION = "2.0.0"
ROLE = "insulin_resistance"
SPEC_DATE = "2026-12-07T00:00:00Z"


def term_scales(frame, fit_: dict, design) -> dict:
    """Weighted SD of each continuous or 0/1 input term among the fit's rows (1 for the pattern terms)."""
    m = fit_["model"]
    factors = [c for c in P.CANDIDATES if any(t in m["coefficients"] for t in c.terms)]
    names, X = P.term_columns(frame, factors)
    out = {}
    for j, t in enumerate(names):
        x = X[:, j]
        ok = ~np.isnan(x)
        w = design.weight[ok]
        mean = np.sum(w * x[ok]) / np.sum(w)
        out[t] = float(np.sqrt(np.sum(w * (x[ok] - mean) ** 2) / np.sum(w))) or 1.0
    return out


def terms_in_order(fit_: dict) -> list[str]:
    m = fit_["model"]
    inputs = [t for c in P.CANDIDATES for t in c.terms if t in m["coefficients"]]
    return inputs + list(m["patterns"])


def build_pipeline(fit_: dict, scales: dict):
    """The Pipeline holding exactly the fit's numbers (see the module docstring)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    m = fit_["model"]
    names = terms_in_order(fit_)
    mean = np.array([m["means"].get(t, 0.0) for t in names])
    scale = np.array([scales.get(t, 1.0) for t in names])
    coef = np.array([m["coefficients"][t] for t in names]) * scale
    two = np.vstack([mean - scale, mean + scale])
    imputer = SimpleImputer(strategy="mean").fit(two)
    scaler = StandardScaler().fit(two)
    imputer.statistics_ = mean.copy()
    scaler.mean_, scaler.scale_, scaler.var_ = mean.copy(), scale.copy(), scale ** 2
    lr = LogisticRegression().fit(np.array([[0.0] * len(names), [1.0] * len(names)]), [0, 1])
    lr.coef_ = coef.reshape(1, -1)
    lr.intercept_ = np.array([m["baseline"]])
    return Pipeline([("impute", imputer), ("scale", scaler), ("logreg", lr)]), names


def manifest(doc: dict, kb, names, pipe, scales: dict, joblib_sha: str, ranges: dict) -> dict:
    from . import features as F
    from .train import _versions

    fit_, ev = doc["fit"], doc["validation"]
    imp, sc, lr = (pipe.named_steps[s] for s in ("impute", "scale", "logreg"))
    meta = {t.name: t for t in F.TERMS}
    terms = []
    for k, name in enumerate(names):
        t = meta[name]
        terms.append({"name": name, "group": t.group, "unit": t.unit, "description": t.description,
                      "impute_value": float(imp.statistics_[k]), "scaler_mean": float(sc.mean_[k]),
                      "scaler_scale": float(sc.scale_[k]), "coef": float(lr.coef_[0][k]),
                      "odds_ratio_per_sd": float(np.exp(lr.coef_[0][k]))})
    cv = ev["primary"]["cv"]
    return {
        "manifest_version": 1, "model_id": MODEL_ID, "version": MODEL_VERSION, "role": ROLE,
        "created_at": SPEC_DATE,
        "created_at_note": "derivation-specification date, not the wall clock, so reruns do not differ by date",
        "artifact": {"file": f"{MODEL_ID}-{MODEL_VERSION}.joblib", "sha256": joblib_sha,
                     "format": "joblib (pickle): verify sha256 before loading",
                     "pipeline": "SimpleImputer(mean) -> StandardScaler -> LogisticRegression, numbers placed from "
                                 "the two-layer survey-weighted fit of riskservice derive-points (no refit)"},
        "outcome": {"definition": kb.ruleset["outcome"]["text"], "expression": "homa_ir > 3.51",
                    "n": fit_["n"], "events": fit_["events"], "prevalence": fit_["events"] / fit_["n"]},
        "training_data": {"name": "NHANES 2015-2016 and 2017-2018 fasting subsample (CDC/NCHS), public domain",
                          "file": doc["data"]["file"], "sha256": doc["data"]["sha256"],
                          "survey_weights": "WTSAF2YR / 2 (fitted with weights; intervals from the design)",
                          "missing_data": "an input not given sits at the fit's weighted mean (contributes 0); "
                                          "a lab pattern term calibrates each combination of labs given"},
        "terms": terms, "intercept": float(lr.intercept_[0]),
        "baseline_logit_note": "log-odds with every input at its weighted mean and no lab given",
        "training_ranges": ranges,
        "metrics": {"cv_auc_by_inputs": {k: v["model"] for k, v in cv["primary"].items() if "model" in v},
                    "calibration_held_out_cycle": {k: {kk: vv for kk, vv in v["model"].items() if kk != "curve"}
                                                   for k, v in ev["primary"]["cycle"]["calibration"].items()}},
        "external_validation": ev.get("reaven_miller"),
        "not_in_model": [{"factor": s["factor"], "reason": s["reason"]} for s in fit_["selection"] if not s["scores"]]
        + [{"factor": "medications, PCOS and inflammatory markers",
            "reason": "not in the NHANES table: the points handle them where an estimate exists"}],
        "seed": "no random step: the fit is deterministic",
        "versions": _versions(),
    }


def training_ranges(frame, fit_: dict) -> dict:
    units = {"bmi": "kg/m2", "waist": "cm", "hdl_cholesterol": "mg/dL", "triglycerides": "mg/dL", "hba1c": "%"}
    out = {}
    for name, unit in units.items():
        x = frame[name].to_numpy(float)
        x = x[~np.isnan(x)]
        out[name] = {"min": float(x.min()), "max": float(x.max()), "unit": unit}
    return out


def write(doc: dict, kb, frame, design, out: Path, log=print) -> dict:
    """Write the joblib, the JSON serving file and the manifest into ``out``; return the manifest."""
    from .sklearn_io import save_artifact, with_serving, write_manifest, write_serving_file

    out = Path(out)
    fit_ = doc["fit"]
    scales = term_scales(frame, fit_, design)
    pipe, names = build_pipeline(fit_, scales)
    sha = save_artifact(pipe, out / f"{MODEL_ID}-{MODEL_VERSION}.joblib")
    m = manifest(doc, kb, names, pipe, scales, sha, training_ranges(frame, fit_))
    serving = write_serving_file(pipe, m, out, sha)
    m = with_serving(m, serving)
    write_manifest(m, out / f"{MODEL_ID}-{MODEL_VERSION}.manifest.json")
    log(f"wrote {MODEL_ID} {MODEL_VERSION}: joblib sha256 {sha[:16]}..., JSON {serving['sha256'][:16]}...")
    return m

