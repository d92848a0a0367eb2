"""The insulin-resistance cohort: the shipped NHANES 2015-2018 fasting table as the service's inputs,
the outcome (HOMA-IR), the survey design and the analysis samples.

One job: turn ``riskservice/model/data/nhanes_fasting_2015_2018.csv`` (built by
``tools/build_nhanes_fasting.py``, its manifest says how) into columns named and coded exactly as the
service's input fields, so the same rows can be fitted here and scored through the service's own
batch scorer. Every recoding is stated next to its NHANES question.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .survey import Design

TABLE = "nhanes_fasting_2015_2018.csv"
MANIFEST = "nhanes_fasting_2015_2018.manifest.json"
CYCLES = ("2015-2016", "2017-2018")

#: HOMA-IR = fasting insulin (uU/mL) x fasting glucose (mg/dL) / 405 (Matthews DR et al., Diabetologia
#: 1985;28:412-419; 405 = 22.5 x 18, clinical-facts.md section 1.1 [V]); the same formula as indices.py
HOMA_DIVISOR_MGDL = 405.0
#: ADA diagnostic thresholds (fasting glucose 126 mg/dL, HbA1c 6.5%; ruleset.json diabetes_range):
#: HOMA-IR is least valid in the diabetes range, so the primary sample excludes it
DIABETES_FPG_MGDL = 126.0
DIABETES_HBA1C_PERCENT = 6.5
#: the conventional HOMA-IR >= 2.5, kept as the secondary outcome (clinical-facts.md 1.1: a widely
#: used convention with no single validated source [M]) and as a cited comparison only
SECONDARY_CUTOFF = 2.5

#: NHANES RIDRETH3 -> the service's ethnicity. Non-Hispanic Asian includes South Asian, Chinese,
#: Filipino, Japanese and others, so it maps to the service's general "asian" (never to one region).
ETHNICITY = {
    "non_hispanic_white": "europid", "non_hispanic_black": "african", "non_hispanic_asian": "asian",
    "mexican_american": "hispanic", "other_hispanic": "hispanic", "other_or_multiracial": "other",
}


def data_dir() -> Path:
    return Path(str(resources.files("riskservice.model") / "data"))


def table_bytes() -> bytes:
    return (data_dir() / TABLE).read_bytes()


@dataclass
class Cohort:
    """Every adult of the table: service inputs, outcome columns, flags and the design."""

    frame: pd.DataFrame
    sha256: str

    @property
    def design(self) -> Design:
        f = self.frame
        return Design(f["sdmvstra"].to_numpy(), f["sdmvpsu"].to_numpy(), f["weight_pooled"].to_numpy())

    def sample(self, name: str) -> np.ndarray:
        """Boolean mask of an analysis sample.

        primary: no known diabetes (told by a doctor, or insulin or pills to lower blood sugar), not
        pregnant, fasting glucose and insulin measured, and not in the diabetes range (fasting glucose
        >= 126 mg/dL or HbA1c >= 6.5%); sensitivity: the same but keeping the diabetes range."""
        f = self.frame
        base = ~f["known_diabetes"] & ~f["pregnant"] & f["homa_ir"].notna()
        if name == "sensitivity":
            return base.to_numpy()
        if name == "primary":
            return (base & ~f["diabetes_range"]).to_numpy()
        raise ValueError(name)


def load(data: bytes | None = None) -> Cohort:
    """The table as service inputs (canonical units) plus ``homa_ir``, flags and design columns."""
    import io

    data = table_bytes() if data is None else data
    t = pd.read_csv(io.BytesIO(data), dtype={"seqn": "int64"})
    yes = {"yes": True, "no": False}

    def flag(col):
        return t[col].map(yes)

    f = pd.DataFrame(index=t.index)
    for col in ("seqn", "cycle", "sdmvstra", "sdmvpsu", "wtsaf2yr", "weight_pooled"):
        f[col] = t[col]
    f["age"] = t["age"].astype(float)
    f["sex"] = t["sex"]
    f["ethnicity"] = t["race_ethnicity"].map(ETHNICITY)
    f["bmi"], f["waist"], f["height"], f["weight"] = t["bmi"], t["waist_cm"], t["height_cm"], t["weight_kg"]
    # PAQ650/655/660 and PAQ665/670/675: recreational vigorous and moderate activity "for at least 10
    # minutes continuously" in a typical week, days x minutes a day; "no" to the question is 0 minutes
    def minutes(flag_col, days, mins):
        any_ = t[flag_col].map(yes)
        return np.where(any_ == False, 0.0, np.where(any_ == True, t[days] * t[mins], np.nan))  # noqa: E712

    f["mvpa_minutes_per_week"] = (minutes("moderate_recreation", "moderate_recreation_days", "moderate_recreation_minutes")
                                  + minutes("vigorous_recreation", "vigorous_recreation_days", "vigorous_recreation_minutes"))
    f["sedentary_hours_per_day"] = t["sedentary_minutes_per_day"] / 60.0
    # SMQ020 (100 cigarettes in life) and SMQ040 (smoke now)
    f["smoking"] = np.where(t["smoked_100_cigarettes"] == "no", "never",
                            np.where(t["smoke_now"].isin(["every_day", "some_days"]), "current",
                                     np.where(t["smoke_now"] == "not_at_all", "former", None)))
    f["smoking"] = f["smoking"].where(f["smoking"].notna(), None)
    f["sleep_hours_per_night"] = t["sleep_hours_weekday"]
    # MCQ300C asks about blood relatives "including father, mother, sisters or brothers": first degree
    f["family_history_diabetes"] = t["family_history_diabetes"].map({"yes": "first_degree", "no": "none"})
    # RHQ162 (women ever pregnant): told of diabetes in pregnancy; never pregnant (RHQ131 no) is "no";
    # "borderline" is neither a diagnosis nor its absence: left missing
    women = t["sex"] == "female"
    gdm = t["gestational_diabetes"].map({"yes": True, "no": False})
    gdm[women & (t["ever_pregnant"] == "no")] = False
    f["gestational_diabetes"] = gdm.where(women, None)
    # BPQ020 told of high blood pressure, BPQ050A now taking medicine for it: the service's
    # ``hypertension`` is "diagnosed high blood pressure or antihypertensive treatment"
    told, taking = flag("told_high_bp"), flag("taking_bp_medicine")
    f["hypertension"] = np.where((told == True) | (taking == True), True,  # noqa: E712
                                 np.where(told == False, False, None))  # noqa: E712
    f["hdl_cholesterol"] = t["hdl_mg_dl"]
    f["triglycerides"] = t["triglycerides_mg_dl"]
    f["hba1c"] = t["hba1c_percent"]
    f["fasting_glucose"] = t["fasting_glucose_mg_dl"]
    f["fasting_insulin"] = t["fasting_insulin_uu_ml"]
    f["fasting"] = True      # the fasting subsample: every lab here was drawn after a 9-hour fast
    f["homa_ir"] = f["fasting_insulin"] * f["fasting_glucose"] / HOMA_DIVISOR_MGDL
    f["known_diabetes"] = (flag("told_diabetes") == True) | (flag("taking_insulin") == True) \
        | (flag("taking_diabetes_pills") == True)  # noqa: E712
    f["pregnant"] = flag("pregnant") == True  # noqa: E712
    f["diabetes_range"] = (f["fasting_glucose"] >= DIABETES_FPG_MGDL) | (f["hba1c"] >= DIABETES_HBA1C_PERCENT)
    return Cohort(f, hashlib.sha256(data).hexdigest())


def outcome(cohort: Cohort, cutoff: float, rule: str = ">") -> np.ndarray:
    """1 where HOMA-IR is above ``cutoff`` (rule ">") or at or above it (rule ">="), NaN where unknown."""
    h = cohort.frame["homa_ir"].to_numpy(dtype=float)
    y = (h > cutoff) if rule == ">" else (h >= cutoff)
    return np.where(np.isnan(h), np.nan, y.astype(float))
