"""Integer points from a logistic fit on NHANES (Sullivan, Massaro & D'Agostino, Stat Med 2004;23:1631).

One job: fit the multivariable logistic model for the factors NHANES measures, turn it into point
tables (categories with reference values W, base W_ref, points = round(beta x (W - W_ref) / B)), and
re-derive the literature points on the same scale (round(ln(adjusted estimate) / B)). Pure functions
of the fit: ``tables(fit)`` and ``literature_points`` need no data, so a test can check that the
committed knowledge equals what the committed fit generates.
"""
from __future__ import annotations

import hashlib
import io
import math

import numpy as np
import pandas as pd

from . import training_data as T

GENERATOR = "riskservice derive-points"
#: the date this derivation specification was fixed (not the wall clock: reruns are byte-identical)
FIT_DATE = "2026-11-26"
#: one point = 0.25 log-odds (odds ratio 1.284): the fixed unit of clinical-facts.md section 8 step 5,
#: fine enough that BMI ranks lean people (about one point per 3.5 kg/m2) and age scores ~1 per 4 years.
POINTS_UNIT = 0.25
FIT_FILE = "models/points_fit.json"

#: model terms (all 0/1 indicators except age, bmi, hdl_cholesterol, sedentary_hours)
TERMS = ("age", "male", "eth_african", "eth_asian", "eth_hispanic", "eth_other", "bmi",
         "hdl_cholesterol", "inactive", "sedentary_hours", "smoking_current", "smoking_former",
         "sleep_short")
#: NHANES activity is "any >= 10 min moderate/vigorous recreational activity in a typical week"
INACTIVE_BELOW = 10.0
SLEEP_SHORT_MAX = 6.0

# Numeric categories: (edges, reference value per category or None = median of the fit data).
# Edges are lower-inclusive (a value on an edge belongs to the category above it).
NUMERIC = {
    "age": {"input": "age", "unit": "years", "edges": list(range(25, 85, 5)),
            "refs": [22.5] + [27.5 + 5 * k for k in range(11)] + [82.5], "base": 0},
    "bmi": {"input": "bmi", "unit": "kg/m2",
            "edges": [19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32.5, 35, 40],
            "refs": [None, 19.5, 20.5, 21.5, 22.5, 23.5, 24.5, 25.5, 26.5, 27.5, 28.5, 29.5, 31.25, 33.75,
                     37.5, None], "base": 0},
    "hdl_cholesterol": {"input": "hdl_cholesterol", "unit": "mg/dL", "edges": [40, 50, 60, 70],
                        "refs": [None, 45, 55, 65, None], "base": -1},
    "sedentary_hours": {"input": "sedentary_hours_per_day", "unit": "h/d", "edges": [4, 8],
                        "refs": [2, 6, None], "base": 0},
}


# ---------------------------------------------------------------------------------------------
# data and fit
def nhanes() -> tuple[pd.DataFrame, np.ndarray, str]:
    """The model's own cohort and outcome (training_data.nhanes_cohort) and the data file's sha256."""
    data = T.nhanes_tsv_bytes()
    raw = pd.read_csv(io.BytesIO(data), sep="\t", index_col=0, low_memory=False)
    canon, y, _ = T.nhanes_cohort(raw)
    return canon, y, hashlib.sha256(data).hexdigest()


def design(canon: pd.DataFrame) -> np.ndarray:
    """Model matrix in TERMS order, NaN where an input is missing."""
    def ind(mask, source):
        return np.where(source.isna(), np.nan, mask.astype(float))
    eth, smk, sleep = canon["ethnicity"], canon["smoking"], canon["sleep_hours_per_night"]
    cols = [
        canon["age"].to_numpy(float),
        ind(canon["sex"] == "male", canon["sex"]),
        *[ind(eth == e, eth) for e in ("african", "asian", "hispanic", "other")],
        canon["bmi"].to_numpy(float),
        canon["hdl_cholesterol"].to_numpy(float),
        ind(canon["mvpa_minutes_per_week"] < INACTIVE_BELOW, canon["mvpa_minutes_per_week"]),
        canon["sedentary_hours_per_day"].to_numpy(float),
        ind(smk == "current", smk), ind(smk == "former", smk),
        ind(sleep <= SLEEP_SHORT_MAX, sleep),
    ]
    return np.column_stack([np.asarray(c, dtype=float) for c in cols])


def logistic_mle(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpenalised maximum likelihood (Newton-Raphson) with an intercept: (coef incl. intercept, SE)."""
    X1 = np.column_stack([np.ones(len(X)), X])
    beta = np.zeros(X1.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X1 @ beta)))
        hess = (X1 * (p * (1 - p))[:, None]).T @ X1
        step = np.linalg.solve(hess, X1.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(hess)))


def fit(canon: pd.DataFrame, y: np.ndarray) -> dict:
    """Complete-case logistic fit, open-category reference values, and the points unit."""
    X = design(canon)
    ok = ~np.isnan(X).any(axis=1)
    beta, se = logistic_mle(X[ok], y[ok])
    refs = {}
    for name, spec in NUMERIC.items():
        x = X[ok][:, TERMS.index(name)]
        idx = np.searchsorted(spec["edges"], x, side="right")
        refs[name] = [r if r is not None else round(float(np.median(x[idx == k])) * 2) / 2
                      for k, r in enumerate(spec["refs"])]
    return {
        "n": int(ok.sum()), "events": int(y[ok].sum()),
        "rows": "complete cases for every term (missing inputs are not imputed in the fit)",
        "intercept": round(float(beta[0]), 6),
        # rounded to 6 decimals: the committed tables are generated from exactly these numbers
        "coefficients": {t: round(float(b), 6) for t, b in zip(TERMS, beta[1:])},
        "standard_errors": {t: round(float(s), 6) for t, s in zip(TERMS, se[1:])},
        "reference_values": refs,
        "points_unit": POINTS_UNIT,
    }


# ---------------------------------------------------------------------------------------------
# points
def round_half_away(x: float) -> int:
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def sullivan_points(coefficient: float, value: float, base: float, unit: float) -> int:
    return round_half_away(coefficient * (value - base) / unit)


def _fmt(x) -> str:
    return f"{x:g}"


def numeric_bands(name: str, fit_: dict) -> list[dict]:
    spec = NUMERIC[name]
    edges, refs = spec["edges"], fit_["reference_values"][name]
    base = refs[spec["base"]]
    coef = fit_["coefficients"][name]
    label = {"age": "age", "bmi": "BMI", "hdl_cholesterol": "HDL", "sedentary_hours": "sitting"}[name]
    bands = []
    for k, ref in enumerate(refs):
        lo = edges[k - 1] if k else None
        hi = edges[k] if k < len(edges) else None
        if lo is None:
            rule = f"{label} < {_fmt(hi)} {spec['unit']}"
        elif hi is None:
            rule = f"{label} >= {_fmt(lo)} {spec['unit']}"
        else:
            rule = f"{_fmt(lo)} <= {label} < {_fmt(hi)} {spec['unit']}"
        part = f"lt{_fmt(hi)}" if lo is None else f"ge{_fmt(lo)}" if hi is None else f"{_fmt(lo)}_{_fmt(hi)}"
        bands.append({
            "id": f"{name}_{part}".replace(".", "p"),
            "label": rule, "rule": rule,
            "lower": lo, "lower_inclusive": True, "upper": hi, "upper_inclusive": False,
            "points": sullivan_points(coef, ref, base, fit_["points_unit"]),
            "effect": None,
            "sullivan": {"term": name, "coefficient": coef, "reference_value": ref, "base_value": base},
        })
    return bands


def indicator_band(band_id, label, equals, term, fit_) -> dict:
    """A category that is one 0/1 term (W = 1) or the reference category (term None, W = 0)."""
    coef = fit_["coefficients"][term] if term else 0.0
    return {"id": band_id, "label": label, "rule": label, "equals": equals,
            "points": sullivan_points(coef, 1.0 if term else 0.0, 0.0, fit_["points_unit"]),
            "effect": None,
            "sullivan": {"term": term or "reference category", "coefficient": coef,
                         "reference_value": 1.0 if term else 0.0, "base_value": 0.0}}


def threshold_bands(name, edge, below_term, above_term, below_label, above_label, fit_,
                    below_inclusive=False):
    """Two numeric bands split at ``edge``: each side is an indicator term or the reference."""
    lo = indicator_band(f"{name}_low", below_label, None, below_term, fit_)
    hi = indicator_band(f"{name}_high", above_label, None, above_term, fit_)
    for b in (lo, hi):
        del b["equals"]
    lo.update(lower=None, lower_inclusive=True, upper=edge, upper_inclusive=below_inclusive)
    hi.update(lower=edge, lower_inclusive=not below_inclusive, upper=None, upper_inclusive=False)
    return [lo, hi]


ETHNICITY_TERMS = {"europid": None, "african": "eth_african", "south_asian": "eth_asian",
                   "east_asian": "eth_asian", "japanese": "eth_asian", "hispanic": "eth_hispanic",
                   "middle_eastern": None, "other": "eth_other"}


def tables(fit_: dict) -> dict:
    """factor id -> generated bands (one variant, all sexes and ethnicities)."""
    out = {f: numeric_bands(n, fit_) for f, n in (("age", "age"), ("bmi", "bmi"),
                                                   ("hdl_cholesterol", "hdl_cholesterol"),
                                                   ("sedentary_time", "sedentary_hours"))}
    out["sex"] = [indicator_band("female", "female", "female", None, fit_),
                  indicator_band("male", "male", "male", "male", fit_)]
    out["ethnicity"] = [indicator_band(e, e.replace("_", " "), e, t, fit_) for e, t in ETHNICITY_TERMS.items()]
    out["smoking"] = [indicator_band("never", "never smoked", "never", None, fit_),
                      indicator_band("former", "former smoker", "former", "smoking_former", fit_),
                      indicator_band("current", "current smoker", "current", "smoking_current", fit_)]
    out["physical_inactivity"] = threshold_bands(
        "mvpa", INACTIVE_BELOW, "inactive", None,
        "no recreational moderate or vigorous activity (< 10 min/week)",
        "some recreational moderate or vigorous activity (>= 10 min/week)", fit_)
    out["sleep_duration"] = threshold_bands(
        "sleep", SLEEP_SHORT_MAX, "sleep_short", None, "short sleep (<= 6 h/night)",
        "more than 6 h/night", fit_, below_inclusive=True)
    return out


def literature_points(effect: dict, unit: float) -> int:
    """round(exponent x ln(adjusted estimate) / B), half away from zero."""
    return round_half_away(effect.get("exponent", 1.0) * math.log(effect["estimate"]) / unit)
