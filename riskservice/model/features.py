"""Feature engineering shared by training and serving (one code path).

Input: the service's *canonical* fields (already converted to canonical units by the caller):

    age (years), sex ("female"|"male"), ethnicity (optional enum), bmi (kg/m2), waist (cm),
    height (cm), weight (kg), mvpa_minutes_per_week (min/week), sedentary_hours_per_day (h/day),
    smoking ("never"|"former"|"current"), sleep_hours_per_night (h), hdl_cholesterol (mg/dL),
    hypertension (bool), fasting (bool), triglycerides (mg/dL), hba1c (%).

Each model's manifest names the terms it uses; a model uses only those (the dysglycaemia model
1.0.0 uses none of waist, hypertension, log_triglycerides and hba1c).

Output: the model's *terms* (the columns of the matrix the sklearn Pipeline was fitted on), in
``TERMS`` order, with ``nan`` where an input is missing (the Pipeline's imputer fills it).

The pickled Pipeline contains only scikit-learn objects (imputer, scaler, logistic regression); the
engineering is plain code, so the served JSON model and the Pipeline are fed the very same
matrix. This module holds the definitions and one patient (:func:`engineer_one`); whole tables go
through :mod:`.feature_columns`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

NAN = float("nan")

OUTCOME_DEFINITION = (
    "Dysglycaemia: HbA1c >= 5.7% (NHANES 2017-2018 glycohemoglobin) or ever told by a doctor of "
    "diabetes, borderline diabetes or prediabetes; adults aged >= 20 years. This is the measurable "
    "consequence of insulin resistance available in the training data, NOT a measured "
    "insulin-resistance probability (no insulin, clamp or SSPG measurement was used)."
)

#: NHANES PAQ650/PAQ665 ask about vigorous / moderate recreational activity "for at least 10
#: minutes continuously" in a typical week [M: NHANES 2017-2018 PAQ_J questionnaire wording].
#: The training data therefore only say "any" versus "none"; minutes per week are reduced to that.
MVPA_ANY_MIN_MINUTES = 10.0

# Canonical ethnicity -> model category. NHANES 2017-2018 (RIDRETH3) has one "Non-Hispanic Asian"
# group, so the three Asian inputs share it. "asian" is an internal alias used for NHANES rows.
ETHNICITY_TO_CATEGORY = {
    "europid": "white",
    "african": "african",
    "south_asian": "asian",
    "east_asian": "asian",
    "japanese": "asian",
    "asian": "asian",
    "hispanic": "hispanic",
    "other": "other",
    # NHANES 2017-2018 used the 1997 OMB race categories, which have no Middle Eastern / North
    # African group [M]; rather than guess, the model treats it as unknown (population average).
    "middle_eastern": None,
}
ETHNICITY_DUMMIES = ("african", "asian", "hispanic", "other")  # reference: white (europid)

#: the insulin-resistance fit's thresholds (riskservice.model.ir_points reads them from here):
#: WHO 2020 (Bull FC et al., Br J Sports Med 2020;54:1451) 150 min/week of moderate activity, and
#: short sleep 6 h or less (Cappuccio 2010's "<= 5-6 h" group)
ACTIVE_MINUTES = 150.0
SHORT_SLEEP_HOURS = 6.0
#: the labs a model may take, and the bit each sets in a "labs given" pattern
LAB_BITS = {"hdl": 1, "tg": 2, "a1c": 4}
LAB_TERMS = {"hdl_cholesterol": "hdl", "log_triglycerides": "tg", "hba1c": "a1c"}
#: one calibration term per combination of labs given (the insulin-resistance model's ``labs_given_*``):
#: 1 when exactly these of the labs the model takes were given, else 0 (never missing)
PATTERN_TERMS = ("labs_given_hdl", "labs_given_tg", "labs_given_a1c", "labs_given_hdl_tg", "labs_given_hdl_a1c",
                 "labs_given_tg_a1c", "labs_given_hdl_tg_a1c")
FAMILY_VALUES = ("none", "second_degree", "first_degree")

SMOKING_VALUES = ("never", "former", "current")
SEX_VALUES = ("female", "male")
CATEGORICAL_INPUTS = ("sex", "ethnicity", "smoking", "family_history_diabetes")


@dataclass(frozen=True)
class Term:
    name: str  # column of the model matrix
    group: str  # the input (or derived input) it explains; contributions are summed per group
    unit: str
    description: str


TERMS: tuple[Term, ...] = (
    Term("age", "age", "years", "age at examination (NHANES top-codes 80 and over as 80)"),
    Term("age_sq", "age", "years^2", "age squared (lets risk bend with age)"),
    Term("male", "sex", "0/1", "1 if sex is male"),
    Term("eth_african", "ethnicity", "0/1", "1 if ethnicity is african (NHANES: Non-Hispanic Black)"),
    Term("eth_asian", "ethnicity", "0/1", "1 if south_asian / east_asian / japanese (NHANES: Non-Hispanic Asian)"),
    Term("eth_hispanic", "ethnicity", "0/1", "1 if hispanic (NHANES: Mexican American or Other Hispanic)"),
    Term("eth_other", "ethnicity", "0/1", "1 if other (NHANES: Other race incl. multi-racial)"),
    Term("bmi", "bmi", "kg/m2", "body-mass index (derived from weight and height when not given)"),
    Term("waist_to_height", "waist_to_height", "ratio", "waist (cm) / height (cm)"),
    Term("hdl_cholesterol", "hdl_cholesterol", "mg/dL", "HDL cholesterol"),
    Term("smoking_current", "smoking", "0/1", "1 if current smoker"),
    Term("smoking_former", "smoking", "0/1", "1 if former smoker (>= 100 cigarettes in life, not smoking now)"),
    Term("mvpa_any", "mvpa_minutes_per_week", "0/1",
         "1 if mvpa_minutes_per_week >= 10 (NHANES asks only about any moderate/vigorous recreational activity)"),
    Term("sedentary_hours", "sedentary_hours_per_day", "h/day", "sitting time on a typical day"),
    Term("sleep_hours", "sleep_hours_per_night", "h", "usual sleep on work days (linear: a quadratic term "
         "added no AUC and bent the wrong way in the sparse tails)"),
    Term("waist", "waist", "cm", "waist circumference"),
    Term("hypertension", "hypertension", "0/1", "1 if diagnosed high blood pressure or antihypertensive treatment"),
    Term("log_triglycerides", "triglycerides", "ln(mg/dL)", "natural log of triglycerides (mg/dL), only when "
         "`fasting` is true (the labs were drawn fasting); otherwise missing"),
    Term("hba1c", "hba1c", "%", "HbA1c (% NGSP)"),
    Term("inactive", "mvpa_minutes_per_week", "0/1", "1 if mvpa_minutes_per_week < 150 (WHO 2020)"),
    Term("sleep_short", "sleep_hours_per_night", "0/1", "1 if sleep_hours_per_night <= 6"),
    Term("family_history", "family_history_diabetes", "0/1", "1 if a first-degree relative has diabetes"),
    Term("gestational_diabetes", "gestational_diabetes", "0/1",
         "1 if gestational diabetes in any pregnancy (0 for men: asked of women only)"),
    *(Term(name, "labs_given", "0/1", "1 when exactly these of the model's labs were given ("
           + ", ".join(name.split("_")[2:]) + "): calibrates each combination of labs") for name in PATTERN_TERMS),
)
TERM_NAMES: tuple[str, ...] = tuple(t.name for t in TERMS)
#: the terms of the dysglycaemia model (1.0.0, `riskservice train` by default): the first fifteen
DYSGLYCAEMIA_TERMS: tuple[str, ...] = TERM_NAMES[:15]
TERM_INDEX = {n: i for i, n in enumerate(TERM_NAMES)}

#: group -> (canonical inputs it is built from, unit of the value shown in contributions)
GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "age": (("age",), "years"),
    "sex": (("sex",), ""),
    "ethnicity": (("ethnicity",), ""),
    "bmi": (("bmi", "weight", "height"), "kg/m2"),
    "waist_to_height": (("waist", "height"), "ratio"),
    "hdl_cholesterol": (("hdl_cholesterol",), "mg/dL"),
    "smoking": (("smoking",), ""),
    "mvpa_minutes_per_week": (("mvpa_minutes_per_week",), "min/week"),
    "sedentary_hours_per_day": (("sedentary_hours_per_day",), "h/day"),
    "sleep_hours_per_night": (("sleep_hours_per_night",), "h"),
    "waist": (("waist",), "cm"),
    "hypertension": (("hypertension",), ""),
    "triglycerides": (("triglycerides", "fasting"), "mg/dL"),
    "hba1c": (("hba1c",), "%"),
    "family_history_diabetes": (("family_history_diabetes",), ""),
    "gestational_diabetes": (("gestational_diabetes", "sex"), ""),
    "labs_given": (("hdl_cholesterol", "triglycerides", "fasting", "hba1c"), ""),
}

#: canonical numeric inputs whose training range is recorded and checked (out_of_range warnings)
RANGE_CHECKED = {
    "age": "years",
    "bmi": "kg/m2",
    "waist": "cm",
    "height": "cm",
    "waist_to_height": "ratio",
    "hdl_cholesterol": "mg/dL",
    "sedentary_hours_per_day": "h/day",
    "sleep_hours_per_night": "h",
    "triglycerides": "mg/dL",
    "hba1c": "%",
}

CANONICAL_INPUTS = {
    "age": "years", "sex": "female|male", "ethnicity": "|".join(ETHNICITY_TO_CATEGORY) + " (optional)",
    "bmi": "kg/m2", "waist": "cm", "height": "cm", "weight": "kg",
    "mvpa_minutes_per_week": "min/week", "sedentary_hours_per_day": "h/day",
    "smoking": "never|former|current", "sleep_hours_per_night": "h", "hdl_cholesterol": "mg/dL",
    "hypertension": "true|false", "fasting": "true|false", "triglycerides": "mg/dL", "hba1c": "%",
    "family_history_diabetes": "|".join(FAMILY_VALUES), "gestational_diabetes": "true|false",
}

NOT_IN_MODEL = (
    {"factor": "medications", "reason": "not in the training data"},
    {"factor": "family_history", "reason": "not used: recorded for too few NHANES participants"},
    {"factor": "hypertension", "reason": "the training file has measured blood pressure but no diagnosis or treatment, so it could not match this input"},
    {"factor": "inflammatory_markers", "reason": "CRP and other markers are not in the training data"},
    {"factor": "labs_other_than_hdl", "reason": "triglycerides, fasting glucose, fasting insulin and HbA1c are absent or part of the outcome (leakage)"},
    {"factor": "surrogate_indices", "reason": "HOMA-IR, TyG, TG/HDL and similar need labs the training data lack"},
)


def number_or_none(v):
    """None/NaN/'' -> None, else float."""
    if v is None:
        return None
    if isinstance(v, str):
        v = v.strip()
        if v == "":
            return None
    f = float(v)
    if math.isnan(f):
        return None
    if math.isinf(f):
        raise ValueError("infinite input value")
    return f


def flag_or_none(v):
    """None/NaN/'' -> None; True/1 -> 1.0; False/0 -> 0.0 (yes/no inputs such as hypertension)."""
    f = number_or_none(v)
    if f is None:
        return None
    if f not in (0.0, 1.0):
        raise ValueError(f"a yes/no input must be true/false or 1/0, got {v!r}")
    return f


def log_triglycerides(tg, fasting):
    """ln(triglycerides mg/dL) when the labs were drawn fasting (``fasting`` 1.0), else None."""
    if tg is None or fasting != 1.0 or tg <= 0:
        return None
    return math.log(tg)


def pattern_bits(name: str) -> int:
    """The labs of a ``labs_given_*`` term as bits (hdl 1, tg 2, a1c 4)."""
    return sum(LAB_BITS[lab] for lab in name.split("_")[2:])


def labs_taken(term_names) -> int:
    """The bits of the labs a model takes (its lab terms)."""
    return sum(LAB_BITS[LAB_TERMS[t]] for t in term_names if t in LAB_TERMS)


def _height_m(height_cm):
    return height_cm / 100.0


def derive_bmi(bmi, weight, height):
    """BMI as given, else weight (kg) / height (m)^2 when both exist, else None."""
    if bmi is not None:
        return bmi, False
    if weight is not None and height is not None and height > 0:
        h = _height_m(height)
        return weight / (h * h), True
    return None, False


def engineer_one(c: dict) -> tuple[list, dict]:
    """Canonical dict -> (term values in TERMS order, None where missing; derived inputs).

    ``derived`` holds the per-input values used (for contributions, imputation and range notes).
    Raises ValueError for a missing age/sex or a value outside an enum.
    """
    age = number_or_none(c.get("age"))
    if age is None:
        raise ValueError("age is required by the model")
    sex = c.get("sex")
    if sex not in SEX_VALUES:
        raise ValueError(f"sex must be one of {SEX_VALUES}, got {sex!r}")
    eth = c.get("ethnicity")
    if eth is not None and eth not in ETHNICITY_TO_CATEGORY:
        raise ValueError(f"unknown ethnicity {eth!r}")
    cat = ETHNICITY_TO_CATEGORY.get(eth) if eth is not None else None
    height = number_or_none(c.get("height"))
    waist = number_or_none(c.get("waist"))
    bmi, bmi_derived = derive_bmi(number_or_none(c.get("bmi")), number_or_none(c.get("weight")), height)
    whtr = waist / height if (waist is not None and height is not None and height > 0) else None
    hdl = number_or_none(c.get("hdl_cholesterol"))
    smoking = c.get("smoking")
    if smoking is not None and smoking not in SMOKING_VALUES:
        raise ValueError(f"smoking must be one of {SMOKING_VALUES}, got {smoking!r}")
    mvpa = number_or_none(c.get("mvpa_minutes_per_week"))
    sed = number_or_none(c.get("sedentary_hours_per_day"))
    sleep = number_or_none(c.get("sleep_hours_per_night"))
    hypertension = flag_or_none(c.get("hypertension"))
    fasting = flag_or_none(c.get("fasting"))
    tg = number_or_none(c.get("triglycerides"))
    hba1c = number_or_none(c.get("hba1c"))
    family = c.get("family_history_diabetes")
    if family is not None and family not in FAMILY_VALUES:
        raise ValueError(f"family_history_diabetes must be one of {FAMILY_VALUES}, got {family!r}")
    gdm = flag_or_none(c.get("gestational_diabetes")) if sex == "female" else 0.0
    log_tg = log_triglycerides(tg, fasting)
    given = (hdl is not None) * LAB_BITS["hdl"] + (log_tg is not None) * LAB_BITS["tg"] + \
        (hba1c is not None) * LAB_BITS["a1c"]

    if cat is None:
        eth_terms = [None, None, None, None]
    else:
        eth_terms = [1.0 if cat == d else 0.0 for d in ETHNICITY_DUMMIES]
    if smoking is None:
        smk = [None, None]
    else:
        smk = [1.0 if smoking == "current" else 0.0, 1.0 if smoking == "former" else 0.0]
    values = [
        age, age * age,
        1.0 if sex == "male" else 0.0,
        *eth_terms,
        bmi, whtr, hdl,
        *smk,
        None if mvpa is None else (1.0 if mvpa >= MVPA_ANY_MIN_MINUTES else 0.0),
        sed,
        sleep,
        waist,
        hypertension,
        log_tg,
        hba1c,
        None if mvpa is None else float(mvpa < ACTIVE_MINUTES),
        None if sleep is None else float(sleep <= SHORT_SLEEP_HOURS),
        None if family is None else float(family == "first_degree"),
        gdm,
        *(float(given == pattern_bits(name)) for name in PATTERN_TERMS),   # all three labs taken; see below
    ]
    derived = {
        "age": age, "sex": sex, "ethnicity": eth, "bmi": bmi, "bmi_derived": bmi_derived,
        "waist": waist, "height": height, "waist_to_height": whtr, "hdl_cholesterol": hdl,
        "smoking": smoking, "mvpa_minutes_per_week": mvpa, "sedentary_hours_per_day": sed,
        "sleep_hours_per_night": sleep,
        "hypertension": None if hypertension is None else hypertension == 1.0,
        "fasting": None if fasting is None else fasting == 1.0, "triglycerides": tg, "hba1c": hba1c,
        "family_history_diabetes": family, "gestational_diabetes": None if gdm is None else gdm == 1.0,
        "labs_given": given,
    }
    return values, derived
