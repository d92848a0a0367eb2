"""Validation of the insulin-resistance points and model on the NHANES fasting table, scored through the
service's own batch scorer.

Schemes (the same rows throughout: the primary sample's adults with every scored input and every lab):
- 5-fold cross-validation on 2015-2018 pooled (folds stratified by the primary outcome, fixed seed);
- each cycle held out in turn (fit on one, test on the other).
In each training part the whole procedure is rerun: factor selection, fit, point tables written to a
temporary knowledge directory; the held-out rows are then scored by ``BatchScorer`` in every lab
configuration the service accepts (no labs, each subset of HDL, triglycerides and HbA1c). The model's
linear predictor comes from the same fit (continuous terms; a missing lab contributes 0, as served).
"""
from __future__ import annotations

import itertools
import math
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from . import ir_points as P
from . import survey as S
from .validation import auc_delong

N_FOLDS = 5
SEED = 20152018
LABS = ("hdl_cholesterol", "triglycerides", "hba1c")
#: the lab configurations: every subset of the labs the service scores
CONFIGS = tuple(tuple(c) for k in range(len(LABS) + 1) for c in itertools.combinations(LABS, k))
#: pre-stated band cuts on the points' predicted risk (fixed before the validation was run):
#: under 1 in 10; 1 in 10 to under 1 in 4 (about the prevalence by construction: the 75th percentile);
#: 1 in 4 to under 1 in 2; 1 in 2 or more
BAND_RISKS = (("low", 0.0, 0.10), ("moderate", 0.10, 0.25), ("high", 0.25, 0.50), ("very_high", 0.50, 1.0))
SUBGROUP_MIN_N = 200
INPUTS = ("age", "sex", "ethnicity", "bmi", "waist", "mvpa_minutes_per_week", "sedentary_hours_per_day", "smoking",
          "sleep_hours_per_night", "family_history_diabetes", "gestational_diabetes", "hypertension")


def config_name(config) -> str:
    return "risk factors only" if not config else "risk factors + " + " + ".join(
        {"hdl_cholesterol": "HDL", "triglycerides": "triglycerides", "hba1c": "HbA1c"}[x] for x in config)


# ---------------------------------------------------------------------------------------------
# scoring through the service
def _text(values) -> pa.Array:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, (bool, np.bool_)):
            out.append("true" if v else "false")
        elif isinstance(v, (float, np.floating, int, np.integer)):
            out.append(repr(float(v)))
        else:
            out.append(str(v))
    return pa.array(out, pa.string())


def service_columns(frame: pd.DataFrame, labs=(), units: dict | None = None) -> dict:
    """Rows as the service's text columns (as a CSV would give them), each number with its canonical unit
    stated (the service reads no unit silently); only the labs named are sent."""
    cols = {name: _text(frame[name].tolist()) for name in INPUTS}
    for lab in labs:
        cols[lab] = _text(frame[lab].tolist())
    for name in list(cols):
        if units and name in units:
            cols[f"{name}_unit"] = pa.array([units[name]] * len(frame), pa.string())
    if "triglycerides" in labs:
        cols["fasting"] = _text([True] * len(frame))
    return cols


def canonical_units(kb) -> dict:
    from riskservice.core.fields import FIELD_BY_NAME
    q = kb.units["quantities"]
    return {name: q[name]["canonical"] for name, f in FIELD_BY_NAME.items() if f.has_unit and name in q}


def service_points(kb, frame: pd.DataFrame, labs=()) -> np.ndarray:
    from riskservice.rows.batch import BatchScorer

    out = BatchScorer(kb).score_columns(service_columns(frame, labs, canonical_units(kb)), len(frame))
    if out["error"].null_count != len(frame):
        raise ValueError("NHANES rows failed validation: " + str(out["error"].drop_null()[0]))
    return out["points"].to_numpy(zero_copy_only=False).astype(float)


def fold_knowledge(fit_doc: dict, source: Path, tmp: Path):
    from riskservice.core.knowledge import load_knowledge

    from .derive import write_knowledge
    shutil.copytree(source, tmp, dirs_exist_ok=True)
    write_knowledge(fit_doc, tmp)
    return load_knowledge(tmp)


# ---------------------------------------------------------------------------------------------
# the model's linear predictor (continuous terms of the same fit)
def model_columns(frame: pd.DataFrame, fit_: dict, labs=()) -> np.ndarray:
    """Linear predictor of the probability model as served: an input not given (or a lab not in ``labs``)
    sits at the fit's mean and contributes 0; the pattern term of the labs given adds its shift."""
    m = fit_["model"]
    factors = [c for c in P.CANDIDATES if any(t in m["coefficients"] for t in c.terms)]
    names, X = P.term_columns(frame, factors)
    lp = np.full(len(frame), m["baseline"])
    for j, t in enumerate(names):
        c = next(c for c in factors if t in c.terms)
        if c.layer == "lab" and c.factor not in labs:
            continue
        lp = lp + m["coefficients"][t] * np.where(np.isnan(X[:, j]), 0.0, X[:, j] - m["means"][t])
    sent = np.column_stack([frame[f].notna().to_numpy() & (f in labs) for f in LABS])   # labs given, row by row
    for term, pattern in m["patterns"].items():
        exactly = np.all(sent == np.array([f in pattern for f in LABS]), axis=1)
        lp = lp + m["coefficients"][term] * exactly
    return lp


# ---------------------------------------------------------------------------------------------
# one scheme
def scheme_scores(frame, y, design, splits, source: Path, fit_fn, log=print) -> dict:
    """Out-of-sample points (through the service) and model linear predictors for every configuration."""
    n = len(frame)
    points = {cfg: np.full(n, np.nan) for cfg in CONFIGS}
    logits = {cfg: np.full(n, np.nan) for cfg in CONFIGS}
    risk = {cfg: np.full(n, np.nan) for cfg in CONFIGS}
    band = {cfg: np.full(n, -1) for cfg in CONFIGS}
    fits = []
    for k, (train, test) in enumerate(splits):
        doc = fit_fn(frame.iloc[train], y[train], design.subset(train))
        fits.append(doc)
        with tempfile.TemporaryDirectory() as tmp:
            kb = fold_knowledge(doc, source, Path(tmp) / "knowledge")
            recal = implied(doc["fit"])
            cuts = band_cuts(recal)
            for cfg in CONFIGS:
                points[cfg][test] = service_points(kb, frame.iloc[test], cfg)
                logits[cfg][test] = model_columns(frame.iloc[test], doc["fit"], cfg)
                risk[cfg][test] = risk_of(points[cfg][test], recal)
                band[cfg][test] = band_index(points[cfg][test], cuts)
        log(f"  part {k + 1}/{len(splits)} scored")
    return {"points": points, "logits": logits, "risk": risk, "band": band, "fits": fits}


def cv_splits(y, seed=SEED):
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def cycle_splits(frame):
    cyc = frame["cycle"].to_numpy()
    out = []
    for held in sorted(set(cyc)):
        out.append((np.flatnonzero(cyc != held), np.flatnonzero(cyc == held)))
    return out


# ---------------------------------------------------------------------------------------------
# metrics
def auc_both(y, score, design) -> dict:
    """Unweighted AUC with DeLong's interval, and the survey-weighted AUC with the jackknife interval."""
    plain = auc_delong(y, score)
    weighted = S.jackknife(lambda w: S.weighted_auc(y, score, w), design)
    return {"auc": plain["auc"], "ci_low": plain["ci_low"], "ci_high": plain["ci_high"],
            "weighted_auc": weighted["estimate"], "weighted_ci_low": weighted["ci_low"],
            "weighted_ci_high": weighted["ci_high"]}


def implied(fit_: dict) -> dict:
    """The points-to-risk function of a fit: risk(T) = 1 / (1 + exp(-(a + B T))) (Sullivan's step 7)."""
    return {"intercept": P.implied_intercept(fit_), "slope": fit_["points_unit"]}


def risk_of(points, recal) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(recal["intercept"] + recal["slope"] * np.asarray(points, float))))


def band_cuts(recal) -> list[dict]:
    """The first total whose risk reaches each band's lower risk (the lowest band starts at the minimum)."""
    out = []
    for band_id, lo, _ in BAND_RISKS:
        if lo == 0:
            first = None
        else:
            first = math.ceil((math.log(lo / (1 - lo)) - recal["intercept"]) / recal["slope"] - 1e-9)
        out.append({"id": band_id, "min_points": first, "risk_from": lo})
    return out


def band_index(points, cuts) -> np.ndarray:
    mins = np.array([c["min_points"] if c["min_points"] is not None else -10 ** 6 for c in cuts])
    return np.searchsorted(mins, np.asarray(points, float), side="right") - 1


def band_table(idx, y, design) -> list[dict]:
    """Each band's weighted share of adults and observed prevalence (jackknife intervals) against its range."""
    rows = []
    for k, (band_id, lo, hi) in enumerate(BAND_RISKS):
        m = idx == k
        share = S.jackknife(lambda w, m=m: np.sum(w[m]) / np.sum(w), design)
        if m.sum() >= 2:
            prev = S.jackknife(lambda w, m=m: np.sum(w[m] * y[m]) / np.sum(w[m]), design)
        else:
            prev = {"estimate": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
        inside = lo <= prev["estimate"] < hi if not math.isnan(prev["estimate"]) else False
        rows.append({"id": band_id, "risk_range": [lo, hi], "n": int(m.sum()), "share": share["estimate"],
                     "share_ci": [share["ci_low"], share["ci_high"]], "prevalence": prev["estimate"],
                     "prevalence_ci": [prev["ci_low"], prev["ci_high"]], "inside_range": bool(inside)})
    return rows


def calibration_summary(y, p, design) -> dict:
    cal = S.calibration(y, p, design.weight)
    oe = S.jackknife(lambda w: S.weighted_mean(y, w) / S.weighted_mean(p, w), design)
    cal["observed_expected_ci"] = [oe["ci_low"], oe["ci_high"]]
    cal["curve"] = S.calibration_curve(y, p, design.weight)
    return cal


def subgroups(frame, y, p, design) -> list[dict]:
    """AUC and weighted observed/expected by sex x ethnicity for groups with at least SUBGROUP_MIN_N adults."""
    out = []
    for (sex, eth), g in frame.groupby(["sex", "ethnicity"]):
        m = frame.index.isin(g.index)
        n = int(m.sum())
        row = {"sex": sex, "ethnicity": eth, "n": n, "events": int(y[m].sum())}
        if n >= SUBGROUP_MIN_N and 2 <= y[m].sum() <= n - 2:
            sub = design.subset(m)
            row["auc"] = auc_delong(y[m], p[m])["auc"]
            oe = S.jackknife(lambda w, m=m: S.weighted_mean(y[m], w) / S.weighted_mean(p[m], w), sub)
            row["observed_expected"] = oe["estimate"]
            row["observed_expected_ci"] = [oe["ci_low"], oe["ci_high"]]
        out.append(row)
    return out


# ---------------------------------------------------------------------------------------------
# the whole validation
def evaluate(cohort, cutoff: float, doc: dict, source: Path, fit_fn, log=print) -> dict:
    """Everything the report and the acceptance read, for both outcomes and every lab configuration."""
    from . import ir_cohort as C

    out = {}
    for sample in ("primary", "sensitivity"):
        keep = cohort.sample(sample)
        frame = cohort.frame[keep].reset_index(drop=True)
        design = cohort.design.subset(keep)
        y1 = C.outcome(cohort, cutoff)[keep]
        y2 = C.outcome(cohort, C.SECONDARY_CUTOFF, ">=")[keep]
        kept = [P.BY_FACTOR[s["factor"]] for s in doc["fit"]["selection"] if s["scores"]]
        _, X = P.term_columns(frame, kept + [P.BY_FACTOR[lab] for lab in LABS])
        rows = ~np.isnan(X).any(axis=1)
        frame, design, y1, y2 = frame[rows].reset_index(drop=True), design.subset(rows), y1[rows], y2[rows]
        log(f"{sample} sample: {len(frame)} adults with every scored input and lab")
        schemes = {"cv": cv_splits(y1), "cycle": cycle_splits(frame)} if sample == "primary" else \
            {"cv": cv_splits(y1)}
        res = {"n": int(len(frame)), "events": {"primary": int(y1.sum()), "secondary": int(y2.sum())},
               "prevalence": {name: S.jackknife(lambda w, yy=yy: S.weighted_mean(yy, w), design)
                              for name, yy in (("primary", y1), ("secondary", y2))}}
        for scheme, splits in schemes.items():
            log(f" {sample} / {scheme}:")
            sc = scheme_scores(frame, y1, design, splits, source, fit_fn, log)
            block = {}
            for name, yy in (("primary", y1), ("secondary", y2)):
                per = {"bmi_alone": auc_both(yy, frame["bmi"].to_numpy(float), design),
                       "waist_alone": auc_both(yy, frame["waist"].to_numpy(float), design)}
                for cfg in CONFIGS:
                    per[config_name(cfg)] = {"points": auc_both(yy, sc["points"][cfg], design),
                                             "model": auc_both(yy, sc["logits"][cfg], design)}
                block[name] = per
            if sample == "primary":
                for cfg in (CONFIGS[0], ("hdl_cholesterol",), LABS):
                    key = config_name(cfg)
                    p_model = 1 / (1 + np.exp(-sc["logits"][cfg]))
                    block.setdefault("calibration", {})[key] = {
                        "model": calibration_summary(y1, p_model, design),
                        "points": calibration_summary(y1, sc["risk"][cfg], design)}
                    block.setdefault("bands", {})[key] = band_table(sc["band"][cfg], y1, design)
                    block.setdefault("bands_secondary", {})[key] = band_table(sc["band"][cfg], y2, design)
                    block.setdefault("subgroups", {})[key] = subgroups(frame, y1, p_model, design)
            res[scheme] = block
        out[sample] = res
    final = doc["fit"]
    out["bands"] = band_cuts(implied(final))
    out["recalibration"] = implied(final)
    out["points_to_risk"] = points_risk_table(final)
    return out


def points_risk_table(fit_: dict, lo: int = -8, hi: int = 50) -> list[dict]:
    f = implied(fit_)
    return [{"points": t, "risk": float(risk_of(t, f))} for t in range(lo, hi + 1)]


def reaven_miller(kb, doc) -> dict:
    """Reaven & Miller 1979 (SSPG >= 150 mg/dL = insulin resistant, overt diabetes excluded): a check of the
    weight the score gives adiposity, nothing tuned to it. Only relative weight (BMI ~ 22 x relwt) exists there
    among the scored inputs; the score runs with a placeholder age and each sex."""
    from riskservice.rows.batch import BatchScorer

    from .validation import SSPG_IR_CUTOFF_MGDL, reaven_miller_frame

    rm = reaven_miller_frame()
    y = rm["ir_label"].to_numpy()
    res = {"label": f"SSPG >= {SSPG_IR_CUTOFF_MGDL:g} mg/dL, overt diabetes excluded", "n": int(len(rm)),
           "events": int(y.sum()), "bmi_alone": auc_delong(y, rm["bmi"].to_numpy(float))}
    for sex in ("female", "male"):
        cols = {"age": pa.array(["40"] * len(rm)), "sex": pa.array([sex] * len(rm)),
                "bmi": pa.array([repr(float(b)) for b in rm["bmi"]]), "bmi_unit": pa.array(["kg/m2"] * len(rm))}
        out = BatchScorer(kb).score_columns(cols, len(rm))
        res[f"points_{sex}"] = auc_delong(y, out["points"].to_numpy(zero_copy_only=False).astype(float))
    return res
