"""Survey statistics for the NHANES fasting subsample: weighted fits, quantiles, AUCs and calibration,
with intervals from the design.

NHANES is a stratified, clustered sample with unequal weights, so a plain standard error is too small
and a plain mean describes the sample, not US adults. Every interval here comes from one method, the
delete-one-PSU jackknife with strata (JKn; Rust KF, Rao JNK, Stat Methods Med Res 1996;5:283-310 [M]):
each replicate drops one PSU and multiplies the weights of the other PSUs in its stratum by
n_h / (n_h - 1); the variance is sum over strata of (n_h - 1) / n_h x sum over its PSUs of
(replicate - full)^2. Intervals use Student's t with (PSUs - strata) degrees of freedom, the NCHS
convention for NHANES [M]. Pure numpy and scipy; no pandas.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Design:
    """Strata, PSUs and weights of the rows an analysis uses (all arrays of the same length)."""

    strata: np.ndarray
    psu: np.ndarray
    weight: np.ndarray

    def subset(self, mask) -> Design:
        return Design(self.strata[mask], self.psu[mask], self.weight[mask])

    @property
    def degrees_of_freedom(self) -> int:
        clusters = {(s, p) for s, p in zip(self.strata.tolist(), self.psu.tolist())}
        return max(1, len(clusters) - len(set(self.strata.tolist())))

    def replicates(self) -> tuple[np.ndarray, np.ndarray]:
        """JKn replicate weights (replicates, n) and each replicate's variance multiplier (n_h - 1) / n_h.
        A stratum with a single PSU in this subset contributes no replicate (it carries no variance
        information; NCHS would collapse it with a neighbour [M])."""
        reps, mult = [], []
        for h in np.unique(self.strata):
            in_h = self.strata == h
            psus = np.unique(self.psu[in_h])
            if len(psus) < 2:
                continue
            for p in psus:
                w = self.weight.astype(float).copy()
                drop = in_h & (self.psu == p)
                w[drop] = 0.0
                w[in_h & ~drop] *= len(psus) / (len(psus) - 1)
                reps.append(w)
                mult.append((len(psus) - 1) / len(psus))
        return np.array(reps), np.array(mult)


def t_quantile(df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def jackknife(stat, design: Design, full=None) -> dict:
    """Estimate, design-based SE and 95% CI of ``stat(weights) -> float or array``."""
    est = np.asarray(stat(design.weight) if full is None else full, dtype=float)
    reps, mult = design.replicates()
    var = np.zeros_like(est)
    for w, m in zip(reps, mult):
        var = var + m * (np.asarray(stat(w), dtype=float) - est) ** 2
    se = np.sqrt(var)
    t = t_quantile(design.degrees_of_freedom)
    return {"estimate": est.tolist() if est.ndim else float(est), "se": se.tolist() if se.ndim else float(se),
            "ci_low": (est - t * se).tolist() if est.ndim else float(est - t * se),
            "ci_high": (est + t * se).tolist() if est.ndim else float(est + t * se),
            "df": design.degrees_of_freedom, "method": "delete-one-PSU jackknife with strata (JKn), t interval"}


# ---------------------------------------------------------------------------------------------
# estimates
def weighted_quantile(x, w, q):
    """The q-quantile of x under weights w: the weighted empirical distribution with each value at the
    middle of its own weight (cumulative weight minus half its weight, over the total), linearly
    interpolated; with equal weights this is Hazen's definition (Hyndman & Fan type 5)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = ~np.isnan(x) & (w > 0)
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="mergesort")
    x, w = x[order], w[order]
    position = (np.cumsum(w) - w / 2) / w.sum()
    return np.interp(q, position, x)


def weighted_percentile_of(value, x, w) -> float:
    """Where ``value`` falls in the weighted distribution of x, in percent (the inverse of
    :func:`weighted_quantile`, clipped to the sample's range)."""
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    order = np.argsort(x, kind="mergesort")
    x, w = x[order], w[order]
    position = (np.cumsum(w) - w / 2) / w.sum()
    return float(100.0 * np.interp(value, x, position))


def weighted_mean(x, w) -> float:
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    return float(np.sum(w * x) / np.sum(w))


def weighted_auc(y, score, w) -> float:
    """Probability that a random positive (drawn by weight) scores above a random negative (ties
    count one half): the weighted Mann-Whitney statistic."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(score, dtype=float)
    w = np.asarray(w, dtype=float)
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    _, start = np.unique(s, return_index=True)          # first row of each distinct score
    neg_in = np.add.reduceat(np.where(~y, w, 0.0), start)
    pos_in = np.add.reduceat(np.where(y, w, 0.0), start)
    neg_below = np.cumsum(neg_in) - neg_in
    return float(np.sum(pos_in * (neg_below + 0.5 * neg_in)) / (pos_in.sum() * neg_in.sum()))


# ---------------------------------------------------------------------------------------------
# logistic regression
def logistic_fit(X, y, w=None, offset=None, iterations: int = 100) -> np.ndarray:
    """Weighted maximum likelihood (pseudo-likelihood with survey weights) by Newton-Raphson with
    step halving; returns (intercept, coefficients...). ``offset`` is a fixed part of the linear
    predictor (used to fit a second layer on top of a first)."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(y)
    w = np.ones(n) if w is None else np.asarray(w, dtype=float) / np.mean(w)
    off = np.zeros(n) if offset is None else np.asarray(offset, dtype=float)
    X1 = np.column_stack([np.ones(n), X])
    beta = np.zeros(X1.shape[1])
    ybar = np.sum(w * y) / np.sum(w)
    beta[0] = math.log(ybar / (1 - ybar)) - np.sum(w * off) / np.sum(w)

    def loglik(b):
        eta = X1 @ b + off
        return float(np.sum(w * (y * eta - np.logaddexp(0.0, eta))))

    current = loglik(beta)
    for _ in range(iterations):
        eta = X1 @ beta + off
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = X1.T @ (w * (y - p))
        hess = (X1 * (w * p * (1 - p))[:, None]).T @ X1
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-6:
            trial = beta + scale * step
            value = loglik(trial)
            if value >= current - 1e-12:
                break
            scale /= 2
        beta, previous, current = trial, current, value
        if np.max(np.abs(scale * step)) < 1e-10 or abs(current - previous) < 1e-13:
            break
    return beta


def logistic_with_design(X, y, design: Design, offset=None) -> dict:
    """Weighted logistic fit with the jackknife covariance of its coefficients."""
    X = np.asarray(X, dtype=float)
    beta = logistic_fit(X, y, design.weight, offset)
    reps, mult = design.replicates()
    cov = np.zeros((len(beta), len(beta)))
    for w, m in zip(reps, mult):
        keep = w > 0
        b = logistic_fit(X[keep], np.asarray(y)[keep], w[keep], None if offset is None else np.asarray(offset)[keep])
        d = b - beta
        cov += m * np.outer(d, d)
    return {"coefficients": beta, "covariance": cov, "df": design.degrees_of_freedom}


def wald_test(fit: dict, positions) -> dict:
    """Joint Wald test that the coefficients at ``positions`` (1-based, 0 is the intercept) are zero,
    as an F statistic with the design's degrees of freedom (NCHS: adjusted Wald F [M])."""
    from scipy.stats import f as f_dist

    idx = np.asarray(positions, dtype=int)
    b = fit["coefficients"][idx]
    v = fit["covariance"][np.ix_(idx, idx)]
    chi2 = float(b @ np.linalg.solve(v, b))
    k, df = len(idx), fit["df"]
    fstat = chi2 / k * (df - k + 1) / df
    p = float(f_dist.sf(fstat, k, df - k + 1)) if df - k + 1 > 0 else float("nan")
    return {"chi2": chi2, "F": fstat, "df_numerator": k, "df_denominator": df - k + 1, "p": p}


# ---------------------------------------------------------------------------------------------
# calibration
def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _spline_basis(x, knots):
    """Restricted (natural) cubic spline basis of Harrell (linear term plus k - 2 nonlinear terms)."""
    k = np.asarray(knots, dtype=float)
    scale = (k[-1] - k[0]) ** 2

    def pos3(v):
        return np.maximum(v, 0.0) ** 3

    cols = [x]
    for j in range(len(k) - 2):
        cols.append((pos3(x - k[j]) - pos3(x - k[-2]) * (k[-1] - k[j]) / (k[-1] - k[-2])
                     + pos3(x - k[-1]) * (k[-2] - k[j]) / (k[-1] - k[-2])) / scale)
    return np.column_stack(cols)


def calibration(y, p, w) -> dict:
    """Weighted calibration of predicted risks p against outcomes y:
    observed/expected (sum of w y over sum of w p), the calibration slope and intercept
    (y ~ a + b logit p; Cox 1958), the integrated calibration index (ICI: weighted mean of
    |p - smoothed observed|, with the observed risk smoothed by a logistic restricted cubic spline of
    logit p, 3 knots at its 10th, 50th and 90th percentiles; Austin PC, Steyerberg EW, Stat Med
    2019;38:4051-4065 [M]) and the scaled Brier score (1 - Brier / Brier of the prevalence)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    w = np.asarray(w, dtype=float)
    lp = _logit(p)
    slope_fit = logistic_fit(lp[:, None], y, w)
    knots = weighted_quantile(lp, w, [0.1, 0.5, 0.9])
    curve = logistic_fit(_spline_basis(lp, knots), y, w)
    smoothed = 1 / (1 + np.exp(-(np.column_stack([np.ones(len(lp)), _spline_basis(lp, knots)]) @ curve)))
    prevalence = weighted_mean(y, w)
    brier = weighted_mean((p - y) ** 2, w)
    return {
        "observed": prevalence, "expected": weighted_mean(p, w),
        "observed_expected": prevalence / weighted_mean(p, w),
        "slope": float(slope_fit[1]), "intercept": float(slope_fit[0]),
        "ici": weighted_mean(np.abs(p - smoothed), w),
        "brier": brier, "scaled_brier": 1 - brier / (prevalence * (1 - prevalence)),
    }


def calibration_curve(y, p, w, bins: int = 10) -> list[dict]:
    """Observed (weighted) against mean predicted risk in tenths of predicted risk (by weight)."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    w = np.asarray(w, dtype=float)
    edges = weighted_quantile(p, w, np.linspace(0, 1, bins + 1)[1:-1])
    group = np.searchsorted(edges, p, side="right")
    out = []
    for g in range(bins):
        m = group == g
        if not m.any():
            continue
        out.append({"n": int(m.sum()), "predicted": weighted_mean(p[m], w[m]), "observed": weighted_mean(y[m], w[m])})
    return out
