"""Points for insulin resistance from one NHANES fit (Sullivan, Massaro & D'Agostino, Stat Med
2004;23:1631-1660): which factors score, their coefficients, and the point tables they generate.

Two layers, both fitted on the same outcome (HOMA-IR above the cut-off in the knowledge files):

1. **Risk factors** (no labs): every candidate factor NHANES measures is fitted together (survey-weighted
   logistic regression). A factor keeps points only if (a) its terms are jointly significant, design-based
   Wald F test p < 0.05 (SELECTION_P), and (b) no coefficient points against an established causal direction
   (SIGN_RULE: e.g. smoking causes insulin resistance, Facchini 1992, so it never gets negative points).
   The kept factors are refitted alone; points = round(coefficient x (reference - base) / B), base the
   lowest-risk category, so a factor not given adds nothing and the total is a lower bound.
2. **Labs** (HDL, fasting triglycerides, HbA1c): fitted with the risk-factor linear predictor as a fixed
   offset, so they adjust what the risk factors predict. Their base is the band holding the survey-weighted
   median: a typical value scores 0, a better one negative, a worse one positive, and a lab not given
   counts as typical (the same as the model's mean imputation).

Fasting glucose and insulin are not candidates: they define the outcome. ``tables(fit)`` is a pure function
of the recorded fit, so a test can check the committed knowledge equals what the committed fit generates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskservice.core.knowledge import sullivan_points

from . import survey as S
from .features import ACTIVE_MINUTES, SHORT_SLEEP_HOURS

GENERATOR = "riskservice derive-points"
FIT_FILE = "models/points_fit.json"
#: the date this derivation specification was fixed (not the wall clock: reruns are byte-identical)
FIT_DATE = "2026-12-07"
#: one point = 0.25 log-odds (odds ratio 1.284), clinical-facts.md section 8 step 5
POINTS_UNIT = 0.25
SELECTION_P = 0.05
# ACTIVE_MINUTES (WHO 2020: 150 min/week) and SHORT_SLEEP_HOURS (6 h or less, Cappuccio 2010) are defined
# once, in features.py, where the served models' terms read them too.


@dataclass(frozen=True)
class Candidate:
    """A factor the fit may score: its knowledge id, service input, terms and point categories."""

    factor: str
    input: str
    layer: str                    # "risk_factor" or "lab"
    terms: tuple
    kind: str                     # numeric | categorical | threshold
    edges: tuple = ()             # numeric: band edges on the input's scale (lower-inclusive)
    transform: str | None = None  # numeric term scale: None (as is) or "log"
    unit: str = ""
    label: str = ""
    categories: tuple = ()        # categorical: (value, term or None, label)
    threshold: float | None = None
    below_term: str | None = None   # threshold: the term that is 1 below the threshold (else above)
    sign: int = 0                 # +1: an established cause of insulin resistance (never negative points)


def _steps(lo, hi, step):
    n = int(round((hi - lo) / step))
    return tuple(round(lo + k * step, 6) for k in range(n + 1))


CANDIDATES = (
    Candidate("age", "age", "risk_factor", ("age",), "numeric", _steps(25, 80, 5), unit="years", label="age"),
    Candidate("sex", "sex", "risk_factor", ("male",), "categorical",
              categories=(("female", None, "female"), ("male", "male", "male"))),
    Candidate("ethnicity", "ethnicity", "risk_factor", ("eth_african", "eth_asian", "eth_hispanic", "eth_other"),
              "categorical", categories=(
                  ("europid", None, "europid (NHANES non-Hispanic White)"),
                  ("african", "eth_african", "african (NHANES non-Hispanic Black)"),
                  ("asian", "eth_asian", "asian, region not given (NHANES non-Hispanic Asian)"),
                  ("south_asian", "eth_asian", "south asian (NHANES non-Hispanic Asian)"),
                  ("east_asian", "eth_asian", "east asian (NHANES non-Hispanic Asian)"),
                  ("japanese", "eth_asian", "japanese (NHANES non-Hispanic Asian)"),
                  ("hispanic", "eth_hispanic", "hispanic (NHANES Mexican American or other Hispanic)"),
                  ("middle_eastern", None, "middle eastern (no NHANES group: scored as the reference)"),
                  ("other", "eth_other", "other (NHANES other race, including multiracial)"))),
    Candidate("bmi", "bmi", "risk_factor", ("bmi",), "numeric", _steps(19, 45, 1), unit="kg/m2", label="BMI", sign=1),
    Candidate("waist", "waist", "risk_factor", ("waist",), "numeric", _steps(70, 130, 2.5), unit="cm", label="waist",
              sign=1),
    Candidate("physical_inactivity", "mvpa_minutes_per_week", "risk_factor", ("inactive",), "threshold",
              threshold=ACTIVE_MINUTES, below_term="inactive", unit="min/week", sign=1),
    Candidate("sedentary_time", "sedentary_hours_per_day", "risk_factor", ("sedentary_hours",), "numeric",
              (4.0, 6.0, 8.0, 10.0), unit="h/day", label="sitting", sign=1),
    Candidate("smoking", "smoking", "risk_factor", ("smoking_current", "smoking_former"), "categorical",
              categories=(("never", None, "never smoked"), ("former", "smoking_former", "former smoker"),
                          ("current", "smoking_current", "current smoker")), sign=1),
    Candidate("sleep_duration", "sleep_hours_per_night", "risk_factor", ("sleep_short",), "threshold",
              threshold=SHORT_SLEEP_HOURS, below_term="sleep_short", unit="h/night", sign=1),
    Candidate("family_history", "family_history_diabetes", "risk_factor", ("family_history",), "categorical",
              categories=(("none", None, "no known relative with diabetes"),
                          ("second_degree", None, "second-degree relative only (not asked in NHANES)"),
                          ("first_degree", "family_history", "parent, brother or sister with diabetes")), sign=1),
    Candidate("gestational_diabetes", "gestational_diabetes", "risk_factor", ("gestational_diabetes",), "categorical",
              categories=((False, None, "no gestational diabetes"),
                          (True, "gestational_diabetes", "gestational diabetes in any pregnancy")), sign=1),
    Candidate("hypertension", "hypertension", "risk_factor", ("hypertension",), "categorical",
              categories=((False, None, "no diagnosis or treatment of high blood pressure"),
                          (True, "hypertension", "diagnosed or treated high blood pressure"))),
    Candidate("hdl_cholesterol", "hdl_cholesterol", "lab", ("hdl_cholesterol",), "numeric", _steps(25, 95, 5),
              unit="mg/dL", label="HDL"),
    Candidate("triglycerides", "triglycerides", "lab", ("log_triglycerides",), "numeric",
              (50, 60, 70, 80, 90, 100, 115, 130, 150, 175, 200, 250, 300, 400), transform="log",
              unit="mg/dL", label="triglycerides"),
    Candidate("hba1c", "hba1c", "lab", ("hba1c",), "numeric", _steps(4.8, 6.5, 0.1), unit="%", label="HbA1c"),
)
BY_FACTOR = {c.factor: c for c in CANDIDATES}


# ---------------------------------------------------------------------------------------------
# terms
def _indicator(mask, source):
    return np.where(pd.isna(source), np.nan, np.asarray(mask, dtype=float))


def term_columns(frame: pd.DataFrame, candidates) -> tuple[list[str], np.ndarray]:
    """The candidates' terms as a matrix (NaN where the input is missing), in candidate order."""
    names, cols = [], []
    for c in candidates:
        x = frame[c.input]
        if c.kind == "numeric":
            v = x.to_numpy(dtype=float)
            cols.append(np.log(v) if c.transform == "log" else v)
        elif c.kind == "threshold":
            v = x.to_numpy(dtype=float)
            below = (v <= c.threshold) if c.below_term == "sleep_short" else (v < c.threshold)
            cols.append(np.where(np.isnan(v), np.nan, below.astype(float)))
        else:
            if c.factor == "gestational_diabetes":      # asked of women only: 0 for men, as the service scores it
                x = x.where(frame["sex"] == "female", False)
            for term in c.terms:
                values = [value for value, t, _ in c.categories if t == term]
                cols.append(_indicator(x.isin(values), x))
        names.extend(c.terms)
    return names, np.column_stack(cols)


# ---------------------------------------------------------------------------------------------
# selection and fit
def _fit_layer(X, y, design, offset=None):
    return S.logistic_with_design(X, y, design, offset)


def select(frame: pd.DataFrame, y: np.ndarray, design: S.Design, layer: str, offset=None) -> list[dict]:
    """Fit every candidate of ``layer`` together and decide, factor by factor, whether it scores."""
    cands = [c for c in CANDIDATES if c.layer == layer]
    names, X = term_columns(frame, cands)
    ok = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
    if offset is not None:
        ok &= ~np.isnan(offset)
    fit = _fit_layer(X[ok], y[ok], design.subset(ok), None if offset is None else offset[ok])
    out = []
    for c in cands:
        pos = [names.index(t) + 1 for t in c.terms]
        test = S.wald_test(fit, pos)
        coef = {t: float(fit["coefficients"][p]) for t, p in zip(c.terms, pos)}
        against = c.sign > 0 and any(v < 0 for v in coef.values())
        helps = test["p"] < SELECTION_P
        kept = helps and not against
        if kept:
            reason = "scores"
        elif helps:
            reason = ("not scored: its fitted association runs against an established cause of insulin resistance, "
                      "so by the sign rule it gets 0 points, never fewer")
        else:
            reason = (f"not scored: it did not help (design-based Wald F test p = {test['p']:.3f} >= {SELECTION_P:g} "
                      "with the other factors in the fit)")
            if against:
                reason += ("; its fitted association also ran against an established cause of insulin resistance, "
                           "which the sign rule would have set to 0 points")
        out.append({"factor": c.factor, "terms": list(c.terms), "coefficients": coef, "p": test["p"],
                     "F": test["F"], "n": int(ok.sum()), "scores": bool(kept), "reason": reason})
    return out


def fit(frame: pd.DataFrame, y: np.ndarray, design: S.Design) -> dict:
    """Select, then refit the kept factors of each layer: everything the point tables need."""
    rf_sel = select(frame, y, design, "risk_factor")
    rf = [BY_FACTOR[s["factor"]] for s in rf_sel if s["scores"]]
    rf_names, rf_X = term_columns(frame, rf)
    ok = ~np.isnan(rf_X).any(axis=1) & ~np.isnan(y)
    beta_rf = S.logistic_fit(rf_X[ok], y[ok], design.weight[ok])
    lp = beta_rf[0] + np.where(np.isnan(rf_X), 0.0, rf_X) @ beta_rf[1:]
    lp[np.isnan(rf_X).any(axis=1)] = np.nan
    lab_sel = select(frame, y, design, "lab", offset=lp)
    labs = [BY_FACTOR[s["factor"]] for s in lab_sel if s["scores"]]
    lab_names, lab_X = term_columns(frame, labs)
    ok_lab = ok & ~np.isnan(lab_X).any(axis=1)
    beta_lab = S.logistic_fit(lab_X[ok_lab], y[ok_lab], design.weight[ok_lab], lp[ok_lab])
    w_rf = design.weight[ok]
    rf_means = {t: float(np.sum(w_rf * rf_X[ok][:, j]) / np.sum(w_rf)) for j, t in enumerate(rf_names)}
    w = design.weight[ok_lab]
    lab_means = {t: float(np.sum(w * lab_X[ok_lab][:, j]) / np.sum(w)) for j, t in enumerate(lab_names)}
    coefficients = {t: float(b) for t, b in zip(rf_names, beta_rf[1:])}
    coefficients.update({t: float(b) for t, b in zip(lab_names, beta_lab[1:])})
    refs = {c.factor: reference_values(c, frame, ok) for c in CANDIDATES if c.kind == "numeric"}
    typical = {c.factor: _typical_band(c, frame, design, ok) for c in labs}
    return {
        "n": int(ok.sum()), "events": int(np.nansum(y[ok])), "n_with_labs": int(ok_lab.sum()),
        "rows": "complete cases of the scored factors (missing inputs are not imputed in the fit); survey "
                "weights (fasting subsample, pooled over the cycles)",
        "intercept": float(beta_rf[0]), "lab_layer_intercept": float(beta_lab[0]),
        # the lab layer's log-odds at the labs' weighted means (0 would mean a missing lab is exactly typical)
        "lab_layer_shift_at_means": float(beta_lab[0] + sum(b * lab_means[t] for t, b in zip(lab_names, beta_lab[1:]))),
        "lab_means": lab_means, "risk_factor_means": rf_means,
        "model": model_from_layers(frame, y, design, rf, labs, beta_rf, beta_lab, rf_means, lab_means, ok_lab),
        "coefficients": coefficients, "selection": rf_sel + lab_sel,
        "reference_values": refs, "typical_band": typical, "points_unit": POINTS_UNIT,
    }


def lab_patterns(labs) -> list[tuple]:
    """Every non-empty subset of the scored labs, in a fixed order (the model's pattern terms)."""
    import itertools
    factors = [c.factor for c in labs]
    return [p for k in range(1, len(factors) + 1) for p in itertools.combinations(factors, k)]


def pattern_term(pattern) -> str:
    return "labs_given_" + "_".join({"hdl_cholesterol": "hdl", "triglycerides": "tg", "hba1c": "a1c"}[f]
                                    for f in pattern)


def model_from_layers(frame, y, design, rf, labs, beta_rf, beta_lab, rf_means, lab_means, ok_lab) -> dict:
    """The probability model: the two layers with continuous terms (an input not given sits at the fit's
    mean and contributes 0) plus one calibration term per combination of labs given. Adding a lab sharpens
    the estimate, and in a logistic model that moves the average prediction; each pattern's term restores
    calibration-in-the-large for that combination (fitted on the same rows, the layers held fixed)."""
    rf_names, rf_X = term_columns(frame, rf)
    lab_names, lab_X = term_columns(frame, labs)
    base = beta_rf[0] + np.where(np.isnan(rf_X), np.array([rf_means[t] for t in rf_names]), rf_X) @ beta_rf[1:]
    shifts = {}
    for pattern in lab_patterns(labs):
        lp = base.copy()
        for f in pattern:
            j = [c.factor for c in labs].index(f)
            lp = lp + beta_lab[1 + j] * (lab_X[:, j] - lab_means[lab_names[j]])
        ok = ok_lab & ~np.isnan(lp)
        delta = S.logistic_fit(np.zeros((ok.sum(), 0)), y[ok], design.weight[ok], lp[ok])
        shifts[pattern_term(pattern)] = float(delta[0])
    coefficients = {**dict(zip(rf_names, map(float, beta_rf[1:]))), **dict(zip(lab_names, map(float, beta_lab[1:]))),
                    **shifts}
    means = {**rf_means, **lab_means}
    baseline = float(beta_rf[0] + sum(beta_rf[1 + j] * rf_means[t] for j, t in enumerate(rf_names)))
    # "baseline": the log-odds with every term at its mean and no lab given (the served model's intercept)
    return {"baseline": baseline, "coefficients": coefficients, "means": means,
            "patterns": {pattern_term(p): list(p) for p in lab_patterns(labs)}}


def reference_values(c: Candidate, frame: pd.DataFrame, rows) -> list:
    """Each band's reference value W on the term's scale: the midpoint of a closed band (on the log
    scale for a log term), the median of the fit's values in an open-ended band (the edge when fewer
    than 10 rows fall there)."""
    x = frame[c.input].to_numpy(dtype=float)[rows]
    x = x[~np.isnan(x)]
    edges = np.asarray(c.edges, dtype=float)
    idx = np.searchsorted(edges, x, side="right")
    tf = np.log if c.transform == "log" else (lambda v: v)
    refs = []
    for k in range(len(edges) + 1):
        if 0 < k < len(edges):
            refs.append(round(float((tf(edges[k - 1]) + tf(edges[k])) / 2), 6))
            continue
        inside = x[idx == k]
        edge = edges[0] if k == 0 else edges[-1]
        refs.append(round(float(tf(np.median(inside) if len(inside) >= 10 else edge)), 6))
    return refs


def _typical_band(c: Candidate, frame: pd.DataFrame, design: S.Design, rows) -> int:
    """The band holding the survey-weighted median of a lab among the fit's rows."""
    x = frame[c.input].to_numpy(dtype=float)
    keep = rows & ~np.isnan(x)
    median = float(S.weighted_quantile(x[keep], design.weight[keep], 0.5))
    return int(np.searchsorted(np.asarray(c.edges, dtype=float), median, side="right"))


# ---------------------------------------------------------------------------------------------
# points (computed by the same functions the start-up check uses: riskservice.core.knowledge)
def _points(d: dict, unit: float) -> int:
    return sullivan_points(d, unit)


def _fmt(x) -> str:
    return f"{x:g}"


def _derivation(fit_: dict, term: str, value: float, base: float) -> dict:
    coef = fit_["coefficients"].get(term)
    if coef is None:
        return {"term": "not scored", "coefficient": 0.0, "reference_value": value, "base_value": base}
    return {"term": term, "coefficient": coef, "reference_value": value, "base_value": base}


def numeric_bands(c: Candidate, fit_: dict) -> list[dict]:
    edges, refs = c.edges, fit_["reference_values"][c.factor]
    base_index = fit_["typical_band"].get(c.factor, 0)
    base = refs[base_index]
    name = c.label or c.factor
    bands = []
    for k, ref in enumerate(refs):
        lo = edges[k - 1] if k else None
        hi = edges[k] if k < len(edges) else None
        if lo is None:
            rule = f"{name} < {_fmt(hi)} {c.unit}"
            part = f"lt{_fmt(hi)}"
        elif hi is None:
            rule = f"{name} >= {_fmt(lo)} {c.unit}"
            part = f"ge{_fmt(lo)}"
        else:
            rule = f"{_fmt(lo)} <= {name} < {_fmt(hi)} {c.unit}"
            part = f"{_fmt(lo)}_{_fmt(hi)}"
        d = _derivation(fit_, c.terms[0], ref, base)
        bands.append({
            "id": f"{c.factor}_{part}".replace(".", "p"), "label": rule, "rule": rule,
            "lower": lo, "lower_inclusive": True, "upper": hi, "upper_inclusive": False,
            "points": _points(d, fit_["points_unit"]),
            "effect": None, "sullivan": d,
        })
    return bands


def categorical_bands(c: Candidate, fit_: dict) -> list[dict]:
    """One band per category. The base is the lowest-risk category (the reference category, or a
    category whose coefficient is below it), so no category scores below 0 and a factor not given
    adds nothing: points = round((coefficient - base category's coefficient) / B)."""
    coefs = {t: fit_["coefficients"].get(t) for _, t, _ in c.categories if t}
    scored = {t: v for t, v in coefs.items() if v is not None}
    base_term, base_coef = min(scored.items(), key=lambda kv: kv[1], default=(None, 0.0))
    if base_coef >= 0:
        base_term, base_coef = "reference category", 0.0
    bands = []
    for value, term, label in c.categories:
        if term and term in scored:
            d = {"term": term, "coefficient": scored[term], "reference_value": 1.0, "base_value": 0.0}
        elif term:
            d = {"term": "not scored", "coefficient": 0.0, "reference_value": 1.0, "base_value": 0.0}
        else:
            d = {"term": "reference category", "coefficient": 0.0, "reference_value": 0.0, "base_value": 0.0}
        if scored and base_coef < 0:
            d["category_base"] = {"term": base_term, "coefficient": base_coef}
        band_id = value if isinstance(value, str) else ("yes" if value else "no")
        bands.append({"id": band_id, "label": label, "rule": label, "equals": value,
                      "points": _points(d, fit_["points_unit"]), "effect": None, "sullivan": d})
    return bands


def threshold_bands(c: Candidate, fit_: dict) -> list[dict]:
    below_inclusive = c.below_term == "sleep_short"
    edge = c.threshold
    lo_label = f"{_fmt(edge)} {c.unit} or less" if below_inclusive else f"under {_fmt(edge)} {c.unit}"
    hi_label = f"more than {_fmt(edge)} {c.unit}" if below_inclusive else f"{_fmt(edge)} {c.unit} or more"
    below = _derivation(fit_, c.below_term, 1.0, 0.0)
    above = {"term": "reference category", "coefficient": 0.0, "reference_value": 0.0, "base_value": 0.0}
    out = []
    for band_id, label, d, lower, upper in ((f"{c.factor}_low", lo_label, below, None, edge),
                                            (f"{c.factor}_high", hi_label, above, edge, None)):
        out.append({"id": band_id, "label": label, "rule": label, "lower": lower, "upper": upper,
                    "lower_inclusive": lower is None or not below_inclusive,
                    "upper_inclusive": upper is not None and below_inclusive,
                    "points": _points(d, fit_["points_unit"]),
                    "effect": None, "sullivan": d})
    return out


def implied_intercept(fit_: dict) -> float:
    """Sullivan's step 7: risk for a total T is 1 / (1 + exp(-(a + B T))) with a = the intercept plus every
    scored factor at its base (numeric: coefficient x base reference value; categorical: the lowest-risk
    category's coefficient) plus, for the labs, coefficient x (base reference - the fit's mean)."""
    a = fit_["intercept"]
    for c in CANDIDATES:
        term = c.terms[0]
        if c.kind == "numeric" and term in fit_["coefficients"]:
            refs = fit_["reference_values"][c.factor]
            base = refs[fit_["typical_band"].get(c.factor, 0)]
            mean = fit_["lab_means"].get(term, 0.0) if c.layer == "lab" else 0.0
            a += fit_["coefficients"][term] * (base - mean)
        elif c.kind == "categorical":
            coefs = [fit_["coefficients"][t] for _, t, _ in c.categories if t and t in fit_["coefficients"]]
            a += min([0.0] + coefs)
    return a


def tables(fit_: dict) -> dict:
    """factor id -> generated bands (one variant for every sex and ethnicity)."""
    out = {}
    for c in CANDIDATES:
        out[c.factor] = {"numeric": numeric_bands, "categorical": categorical_bands,
                         "threshold": threshold_bands}[c.kind](c, fit_)
    return out
