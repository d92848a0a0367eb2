"""Vectorised feature engineering: :func:`engineer_frame` is :func:`.features.engineer_one` for a
whole table at once (training, batch scoring), producing the same matrix column for column.

The batch path passes plain numpy columns (:func:`engineer_columns`) and needs no pandas; a
DataFrame (training, tests) imports pandas lazily.
"""
from __future__ import annotations

import numpy as np

from .features import (
    ACTIVE_MINUTES,
    ETHNICITY_DUMMIES,
    ETHNICITY_TO_CATEGORY,
    FAMILY_VALUES,
    LAB_BITS,
    MVPA_ANY_MIN_MINUTES,
    NAN,
    PATTERN_TERMS,
    RANGE_CHECKED,
    SEX_VALUES,
    SHORT_SLEEP_HOURS,
    SMOKING_VALUES,
    TERM_INDEX,
    TERMS,
    flag_or_none,
    labs_taken,
    number_or_none,
    pattern_bits,
)


def _col(df, name):
    """A DataFrame column, or an all-NaN float column when absent (DataFrame input only)."""
    import pandas as pd

    if name in df.columns:
        return df[name]
    return pd.Series(np.nan, index=df.index, dtype="float64")


def _numcol(df, name) -> np.ndarray:
    if isinstance(df, _Columns):
        raw = df.cols.get(name)
        if raw is None:
            return np.full(df.n, np.nan)
        raw = np.asarray(raw)
        if raw.dtype.kind in "fiub":
            v = raw.astype("float64", copy=False)
        else:  # object columns (numbers, numbers as text, None): converted strictly, one by one
            v = np.array([NAN if x is None else x for x in map(number_or_none, raw.tolist())], dtype="float64")
    else:
        import pandas as pd

        v = pd.to_numeric(_col(df, name), errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    if np.isinf(v).any():
        raise ValueError(f"infinite values in column {name!r}")
    return v


def _flagcol(df, name) -> np.ndarray:
    """A yes/no column as 1.0 / 0.0 / NaN (booleans or 0/1 numbers; anything else is refused)."""
    if isinstance(df, _Columns):
        raw = df.cols.get(name)
        if raw is None:
            return np.full(df.n, np.nan)
        v = np.array([NAN if x is None else x for x in map(flag_or_none, np.asarray(raw, dtype=object).tolist())],
                     dtype="float64")
    else:
        v = np.array([NAN if x is None else x for x in map(flag_or_none, _col(df, name).to_numpy(dtype=object,
                      na_value=None).tolist())], dtype="float64")
    return v


def _catcol(df, name) -> np.ndarray:
    """Object array of the column's values with every kind of missing (None, NaN, NA) as None."""
    if isinstance(df, _Columns):
        raw = df.cols.get(name)
        if raw is None:
            return np.full(df.n, None, dtype=object)
        raw = np.asarray(raw)
        if raw.dtype == object:
            return raw  # the batch engine's categories: values or None
        out = raw.astype(object)
        if raw.dtype.kind == "f":
            out[np.isnan(raw)] = None
        return out
    return _col(df, name).to_numpy(dtype=object, na_value=None)


class _Columns:
    """A plain mapping of numpy columns and its length: the batch path needs no DataFrame (or pandas)."""

    def __init__(self, cols, n):
        self.cols, self.n = cols, n

    def __len__(self):
        return self.n


def engineer_columns(cols: dict, n: int) -> np.ndarray:
    """``engineer_frame`` for a plain mapping of canonical columns (numpy arrays: float with NaN
    for numbers, object with None for categories), without building a DataFrame."""
    return engineer_frame(_Columns(cols, n))


def _unique_values(arr) -> set:
    return set(np.asarray(arr, dtype=object)) - {None}


def engineer_frame(df) -> np.ndarray:
    """Vectorised ``engineer_one`` for a DataFrame of canonical columns (missing columns/NaN allowed).

    Age and sex may be missing here (rows are then imputed like any other input); unknown enum
    values raise ValueError, as in ``engineer_one``.
    """
    n = len(df)
    age = _numcol(df, "age")
    sex = _catcol(df, "sex")
    bad = {v for v in _unique_values(sex) if v not in SEX_VALUES}
    if bad:
        raise ValueError(f"sex must be one of {SEX_VALUES}, got {sorted(map(str, bad))}")
    male = np.where(sex == None, np.nan, (sex == "male").astype("float64"))  # noqa: E711
    eth = _catcol(df, "ethnicity")
    bad = {v for v in _unique_values(eth) if v not in ETHNICITY_TO_CATEGORY}
    if bad:
        raise ValueError(f"unknown ethnicity {sorted(map(str, bad))}")
    cat = np.full(n, None, dtype=object)
    for value in _unique_values(eth):
        cat[eth == value] = ETHNICITY_TO_CATEGORY[value]
    known = cat != None  # noqa: E711
    eth_cols = [np.where(known, (cat == d).astype("float64"), np.nan) for d in ETHNICITY_DUMMIES]
    height = _numcol(df, "height")
    waist = _numcol(df, "waist")
    bmi = _numcol(df, "bmi")
    weight = _numcol(df, "weight")
    with np.errstate(invalid="ignore", divide="ignore"):
        hm = height / 100.0
        bmi_from_wh = np.where(height > 0, weight / (hm * hm), np.nan)
        bmi = np.where(np.isnan(bmi), bmi_from_wh, bmi)
        whtr = np.where(height > 0, waist / height, np.nan)
    hdl = _numcol(df, "hdl_cholesterol")
    smoking = _catcol(df, "smoking")
    bad = {v for v in _unique_values(smoking) if v not in SMOKING_VALUES}
    if bad:
        raise ValueError(f"smoking must be one of {SMOKING_VALUES}, got {sorted(map(str, bad))}")
    sk = smoking != None  # noqa: E711
    cur = np.where(sk, (smoking == "current").astype("float64"), np.nan)
    former = np.where(sk, (smoking == "former").astype("float64"), np.nan)
    mvpa = _numcol(df, "mvpa_minutes_per_week")
    with np.errstate(invalid="ignore"):
        mvpa_any = np.where(np.isnan(mvpa), np.nan, (mvpa >= MVPA_ANY_MIN_MINUTES).astype("float64"))
    sed = _numcol(df, "sedentary_hours_per_day")
    sleep = _numcol(df, "sleep_hours_per_night")
    hypertension = _flagcol(df, "hypertension")
    fasting = _flagcol(df, "fasting")
    tg = _numcol(df, "triglycerides")
    with np.errstate(invalid="ignore", divide="ignore"):
        log_tg = np.where((fasting == 1.0) & (tg > 0), np.log(tg), np.nan)
    hba1c = _numcol(df, "hba1c")
    family = _catcol(df, "family_history_diabetes")
    bad = {v for v in _unique_values(family) if v not in FAMILY_VALUES}
    if bad:
        raise ValueError(f"family_history_diabetes must be one of {FAMILY_VALUES}, got {sorted(map(str, bad))}")
    first = np.where(family == None, np.nan, (family == "first_degree").astype("float64"))  # noqa: E711
    gdm = np.where(sex == "female", _flagcol(df, "gestational_diabetes"), 0.0)   # asked of women only
    with np.errstate(invalid="ignore"):
        inactive = np.where(np.isnan(mvpa), np.nan, (mvpa < ACTIVE_MINUTES).astype("float64"))
        short = np.where(np.isnan(sleep), np.nan, (sleep <= SHORT_SLEEP_HOURS).astype("float64"))
    given = given_bits(hdl, log_tg, hba1c)
    patterns = [(given == pattern_bits(name)).astype("float64") for name in PATTERN_TERMS]
    X = np.column_stack([
        age, age * age, male, *eth_cols, bmi, whtr, hdl, cur, former, mvpa_any, sed, sleep,
        waist, hypertension, log_tg, hba1c, inactive, short, first, gdm, *patterns,
    ]) if n else np.empty((0, len(TERMS)))
    return X.astype("float64")


def given_bits(hdl, log_tg, hba1c) -> np.ndarray:
    """Which labs were given, as bits (hdl 1, triglycerides 2 (fasting only), HbA1c 4)."""
    return (~np.isnan(hdl) * LAB_BITS["hdl"] + ~np.isnan(log_tg) * LAB_BITS["tg"]
            + ~np.isnan(hba1c) * LAB_BITS["a1c"]).astype(np.int64)


def set_patterns(X: np.ndarray, term_names, given=None) -> np.ndarray:
    """Rewrite a model's ``labs_given_*`` columns of ``X`` (in ``term_names`` order) for the labs that
    model takes: 1 when exactly these of them were given (``given``: bits per row, else read from X)."""
    names = list(term_names)
    rows = [(k, pattern_bits(t)) for k, t in enumerate(names) if t in PATTERN_TERMS]
    if not rows:
        return X
    if given is None:
        col = {t: X[:, names.index(t)] if t in names else np.full(len(X), np.nan)
               for t in ("hdl_cholesterol", "log_triglycerides", "hba1c")}
        given = given_bits(col["hdl_cholesterol"], col["log_triglycerides"], col["hba1c"])
    taken = labs_taken(names)
    for k, bits in rows:
        X[:, k] = ((given & taken) == bits).astype("float64")
    return X


def input_frame_ranges(df) -> dict:
    """Training range (min, max) of the range-checked canonical inputs present in ``df``."""
    out = {}
    X = engineer_frame(df)
    extra = {"bmi": X[:, TERM_INDEX["bmi"]], "waist_to_height": X[:, TERM_INDEX["waist_to_height"]]}
    for name, unit in RANGE_CHECKED.items():
        v = extra[name] if name in extra else _numcol(df, name)
        v = v[~np.isnan(v)]
        if v.size:
            out[name] = {"min": float(v.min()), "max": float(v.max()), "unit": unit, "n": int(v.size)}
    return out
