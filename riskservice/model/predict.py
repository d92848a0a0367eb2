"""Inference from the model's numbers (the JSON serving file): numpy and plain Python, no scikit-learn.

For a Pipeline(SimpleImputer(mean) -> StandardScaler -> LogisticRegression) fitted on the terms of
:mod:`riskservice.model.features`:

    z_j     = (x_j - mean_j) / scale_j         (x_j = imputer fill value when the input is missing)
    logit   = intercept + sum_j coef_j * z_j
    p       = 1 / (1 + exp(-logit))

``mean_j`` is the training mean (after mean imputation it equals the imputer's fill value), so each
``coef_j * z_j`` is the term's log-odds contribution *relative to the training mean*, a missing input
contributes 0, and the contributions sum to ``logit - baseline_logit`` with ``baseline_logit =
intercept`` (the logit of a patient at the training mean of every term).
"""
from __future__ import annotations

import numpy as np

from . import feature_columns as FC
from . import features as F

ROUND = 6  # display rounding of the imputation fill values in explanations only


class LoadedModel:
    """A verified model ready for serving. Build it with :func:`riskservice.model.artifact.load_model`.

    ``sha256`` is the model's identity: the digest of the joblib the numbers were exported from (the
    manifest's ``artifact.sha256``), also when the numbers come from the JSON serving file.
    """

    def __init__(self, *, manifest: dict, fill, mean, scale, coef, intercept: float, sha256: str,
                 pipeline=None, training_ranges: dict | None = None):
        self.manifest = manifest
        self.model_id: str = manifest["model_id"]
        self.version: str = manifest["version"]
        self.role: str = manifest.get("role", "dysglycaemia")   # what it estimates (artifact.ROLES)
        self.sha256: str = sha256
        self.outcome: str = manifest["outcome"]["definition"]
        self.pipeline = pipeline  # None when served from JSON; training passes its fitted Pipeline
        self.term_names: tuple[str, ...] = tuple(t["name"] for t in manifest["terms"])
        unknown = [n for n in self.term_names if n not in F.TERM_INDEX]
        if unknown:
            raise ValueError(f"manifest terms unknown to this code: {unknown}")
        n = len(self.term_names)
        arrays = [np.asarray(a, dtype="float64").reshape(-1) for a in (fill, mean, scale, coef)]
        if any(a.size != n for a in arrays):
            raise ValueError("extracted parameter sizes do not match the manifest's terms")
        self.fill_, self.mean_, self.scale_, self.coef_ = arrays
        self.intercept_ = float(intercept)
        self._idx = np.array([F.TERM_INDEX[t] for t in self.term_names], dtype=np.intp)
        # "labs given" terms count only the labs this model takes
        self._taken = F.labs_taken(self.term_names)
        self._patterns = tuple((F.TERM_INDEX[t], F.pattern_bits(t)) for t in self.term_names if t in F.PATTERN_TERMS)

        # pure-Python copies for the single-row path
        groups: dict[str, list[int]] = {}
        for k, name in enumerate(self.term_names):
            groups.setdefault(F.TERMS[F.TERM_INDEX[name]].group, []).append(k)
        self._groups = tuple((g, tuple(ks)) for g, ks in groups.items())
        self._spec = tuple(
            (int(self._idx[k]), float(self.fill_[k]), float(self.mean_[k]), float(self.scale_[k]),
             float(self.coef_[k]))
            for k in range(n)
        )
        ranges = manifest.get("training_ranges", {}) if training_ranges is None else training_ranges
        self._ranges = {k: (v["min"], v["max"], v["unit"]) for k, v in ranges.items()}
        self._imputed_text = self._build_imputation_text()
        self.not_in_model = [dict(f, handled_by="rules score only") for f in manifest.get("not_in_model", F.NOT_IN_MODEL)]

    # ------------------------------------------------------------------------------------------
    def _fill_of(self, term: str) -> float | None:
        if term in self.term_names:
            return float(self.fill_[self.term_names.index(term)])
        return None

    def _build_imputation_text(self) -> dict:
        f = self._fill_of
        mean_txt = "filled with the training mean, so it contributes 0 log-odds"
        out = {}
        if "age" in self.term_names:
            out["age"] = {"feature": "age", "filled_with": round(f("age"), ROUND),
                          "reason": f"age missing: {mean_txt}"}
        if "male" in self.term_names:
            out["sex"] = {"feature": "sex", "filled_with": {"male": round(f("male"), ROUND)},
                          "reason": f"sex missing: {mean_txt} (share of men)"}
        eth = {d: round(f("eth_" + d), ROUND) for d in F.ETHNICITY_DUMMIES if f("eth_" + d) is not None}
        if eth:
            out["ethnicity"] = {"feature": "ethnicity", "filled_with": eth,
                                "reason": f"ethnicity missing: {mean_txt} (training mix of groups)"}
            out["ethnicity_unmapped"] = {
                "feature": "ethnicity", "filled_with": eth,
                "reason": "middle_eastern is not a category in the training data (NHANES 2017-2018 used the "
                          "1997 OMB race groups): treated as unknown and " + mean_txt}
        if f("bmi") is not None:
            out["bmi"] = {"feature": "bmi", "filled_with": round(f("bmi"), ROUND),
                          "reason": f"bmi missing and not derivable from weight and height: {mean_txt}"}
        if f("waist_to_height") is not None:
            for why in ("waist", "height", "waist and height"):
                out["waist_to_height:" + why] = {
                    "feature": "waist_to_height", "filled_with": round(f("waist_to_height"), ROUND),
                    "reason": f"{why} missing: waist-to-height ratio {mean_txt}"}
        if f("hdl_cholesterol") is not None:
            out["hdl_cholesterol"] = {"feature": "hdl_cholesterol", "filled_with": round(f("hdl_cholesterol"), ROUND),
                                      "reason": f"hdl_cholesterol missing: {mean_txt}"}
        smk = {k: round(f("smoking_" + k), ROUND) for k in ("current", "former") if f("smoking_" + k) is not None}
        if smk:
            out["smoking"] = {"feature": "smoking", "filled_with": smk,
                              "reason": f"smoking missing: {mean_txt} (training shares)"}
        if f("mvpa_any") is not None:
            out["mvpa_minutes_per_week"] = {
                "feature": "mvpa_minutes_per_week", "filled_with": {"any_activity_share": round(f("mvpa_any"), ROUND)},
                "reason": f"mvpa_minutes_per_week missing: {mean_txt} (share reporting any activity)"}
        if f("sedentary_hours") is not None:
            out["sedentary_hours_per_day"] = {
                "feature": "sedentary_hours_per_day", "filled_with": round(f("sedentary_hours"), ROUND),
                "reason": f"sedentary_hours_per_day missing: {mean_txt}"}
        if f("sleep_hours") is not None:
            out["sleep_hours_per_night"] = {
                "feature": "sleep_hours_per_night", "filled_with": round(f("sleep_hours"), ROUND),
                "reason": f"sleep_hours_per_night missing: {mean_txt}"}
        if f("waist") is not None:
            out["waist"] = {"feature": "waist", "filled_with": round(f("waist"), ROUND),
                            "reason": f"waist missing: {mean_txt}"}
        if f("hypertension") is not None:
            out["hypertension"] = {"feature": "hypertension", "filled_with": round(f("hypertension"), ROUND),
                                   "reason": f"hypertension missing: {mean_txt} (training share)"}
        if f("log_triglycerides") is not None:
            fill = round(f("log_triglycerides"), ROUND)
            out["triglycerides"] = {"feature": "triglycerides", "filled_with": {"log_triglycerides": fill},
                                    "reason": f"triglycerides missing: {mean_txt}"}
            out["triglycerides:not_fasting"] = {
                "feature": "triglycerides", "filled_with": {"log_triglycerides": fill},
                "reason": "triglycerides reported, not scored: the labs were not drawn fasting (`fasting` is not "
                          f"true), so they are {mean_txt}"}
        if f("hba1c") is not None:
            out["hba1c"] = {"feature": "hba1c", "filled_with": round(f("hba1c"), ROUND),
                            "reason": f"hba1c missing: {mean_txt}"}
        return out

    def _generic_imputation(self, group: str, ks) -> dict:
        """What was filled in for a group without its own text (e.g. the insulin-resistance model's
        inactive, sleep_short, family_history or gestational_diabetes terms)."""
        return {"feature": group,
                "filled_with": {self.term_names[k]: round(float(self.fill_[k]), ROUND) for k in ks},
                "reason": f"{group} missing: filled with the training mean, so it contributes 0 log-odds"}

    # ------------------------------------------------------------------------------------------
    def linear_predictor(self, canonical: dict) -> tuple[float, list, list, dict]:
        """(logit, per-term contributions, per-term missing flags, derived inputs)."""
        values, derived = F.engineer_one(canonical)
        for j, bits in self._patterns:
            values[j] = float((derived["labs_given"] & self._taken) == bits)
        logit = self.intercept_
        contrib = []
        missing = []
        for j, fill, mean, scale, coef in self._spec:
            v = values[j]
            if v is None:
                v = fill
                missing.append(True)
            else:
                missing.append(False)
            c = coef * ((v - mean) / scale)
            contrib.append(c)
            logit += c
        return logit, contrib, missing, derived

    def predict_one(self, canonical: dict) -> dict:
        """The JSON-ready ``model`` block of a response for one patient (canonical units)."""
        logit, contrib, missing, d = self.linear_predictor(canonical)
        return self.explain(logit, contrib, missing, d)

    def explain(self, logit: float, contrib, missing, d: dict, probability: float | None = None) -> dict:
        """The ``model`` block from one row's logit, per-term contributions and missing flags
        (in ``term_names`` order) and the inputs used (``d``, as :func:`features.engineer_one`)."""
        prob = probability if probability is not None else float(sigmoid(np.array([logit]))[0])
        contributions = []
        imputed = []
        txt = self._imputed_text
        for g, ks in self._groups:
            s = 0.0
            for k in ks:
                s += float(contrib[k])
            contributions.append({"feature": g, "value": _group_value(g, d), "log_odds": s})
            if missing[ks[0]]:
                if g == "waist_to_height":
                    w, h = d["waist"] is None, d["height"] is None
                    key = "waist and height" if (w and h) else ("waist" if w else "height")
                    imputed.append(dict(txt["waist_to_height:" + key]))
                elif g == "ethnicity" and d["ethnicity"] is not None:
                    imputed.append(dict(txt["ethnicity_unmapped"]))
                elif g == "triglycerides" and d.get("triglycerides") is not None:
                    imputed.append(dict(txt["triglycerides:not_fasting"]))
                else:
                    imputed.append(dict(txt[g]) if g in txt else self._generic_imputation(g, ks))
        if d["bmi_derived"] and "bmi" in txt:
            imputed.append({"feature": "bmi", "filled_with": d["bmi"],
                            "reason": "bmi not given: computed as weight (kg) / height (m)^2"})
        out_of_range = []
        for name, (lo, hi, unit) in self._ranges.items():
            v = d.get(name)
            if v is not None and (v < lo or v > hi):
                out_of_range.append({
                    "feature": name, "value": v, "training_min": lo, "training_max": hi, "unit": unit,
                    "message": f"{name} {v:g} {unit} is outside the training range {lo:g}-{hi:g} {unit}; "
                               "the model extrapolates here",
                })
        return {
            "probability": prob,
            "outcome": self.outcome,
            "model_id": self.model_id,
            "version": self.version,
            "sha256": self.sha256,
            "logit": logit,
            "baseline_logit": self.intercept_,
            "contributions": contributions,
            "imputed": imputed,
            "out_of_range": out_of_range,
            "not_in_model": [dict(f) for f in self.not_in_model],
        }

    # ------------------------------------------------------------------------------------------
    def term_matrix(self, df) -> np.ndarray:
        """The matrix the Pipeline expects (model terms, NaN where missing)."""
        return FC.set_patterns(FC.engineer_frame(df)[:, self._idx], self.term_names)

    def logit_frame(self, df) -> np.ndarray:
        X = self.term_matrix(df)
        X = np.where(np.isnan(X), self.fill_, X)
        return ((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_

    def predict_columns(self, cols: dict, n: int) -> np.ndarray:
        """``predict_frame`` for a mapping of numpy columns (the batch path), no DataFrame needed."""
        X = FC.set_patterns(FC.engineer_columns(cols, n)[:, self._idx], self.term_names)
        X = np.where(np.isnan(X), self.fill_, X)
        return sigmoid(((X - self.mean_) / self.scale_) @ self.coef_ + self.intercept_)

    def predict_frame(self, df) -> np.ndarray:
        """Vectorised probabilities for a DataFrame of canonical columns (missing columns/NaN allowed)."""
        return sigmoid(self.logit_frame(df))

    def __repr__(self) -> str:
        return f"LoadedModel({self.model_id} {self.version}, sha256={self.sha256[:12]}..., {len(self.term_names)} terms)"


_ZERO, _ONE = np.array(0.0), np.array(1.0)   # 0-d arrays: cheaper for a ufunc than Python floats


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function (the engine and the batch helpers share it):
    1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) below, both from e = exp(-|z|) <= 1, so the
    exponent never overflows (the numerator is max(e, z >= 0)); NaN stays NaN."""
    e = np.exp(-np.abs(z))
    return np.maximum(e, z >= _ZERO) / (_ONE + e)


def _group_value(g: str, d: dict):
    if g == "labs_given":        # the labs given, by name
        return [lab for lab, bit in F.LAB_BITS.items() if d.get("labs_given", 0) & bit]
    if g == "sex":
        return d["sex"]
    if g == "ethnicity":
        return d["ethnicity"]
    if g == "smoking":
        return d["smoking"]
    return d.get(g)


#: fixed probe patients for the load-time self-check (incl. missing values and edge categories)
PROBES: tuple[dict, ...] = (
    {"age": 45, "sex": "female"},
    {"age": 20, "sex": "male", "ethnicity": "europid", "bmi": 22.0, "waist": 80.0, "height": 180.0,
     "hdl_cholesterol": 60.0, "smoking": "never", "mvpa_minutes_per_week": 150.0,
     "sedentary_hours_per_day": 6.0, "sleep_hours_per_night": 7.5},
    {"age": 80, "sex": "female", "ethnicity": "south_asian", "weight": 95.0, "height": 150.0,
     "waist": 120.0, "hdl_cholesterol": 30.0, "smoking": "current", "mvpa_minutes_per_week": 0.0,
     "sedentary_hours_per_day": 14.0, "sleep_hours_per_night": 4.0},
    {"age": 62.5, "sex": "male", "ethnicity": "african", "bmi": 35.0, "smoking": "former",
     "sleep_hours_per_night": 10.0},
    {"age": 33, "sex": "female", "ethnicity": "hispanic", "waist": 95.0, "mvpa_minutes_per_week": 5.0},
    {"age": 51, "sex": "male", "ethnicity": "middle_eastern", "bmi": 28.0, "height": 170.0},
    {"age": 70, "sex": "female", "ethnicity": "other", "hdl_cholesterol": 95.0, "sedentary_hours_per_day": 1.0},
)
