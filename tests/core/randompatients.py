"""Random patients over every field, unit and edge (fixed seed), for differential tests."""
import random

from riskservice.core.fields import ETHNICITY, FAMILY_HISTORY, SMOKING

EDGES = {
    "bmi": [18.5, 23, 25, 27.5, 30, 35, 40], "waist": [80, 85, 88, 90, 94, 102],
    "fasting_glucose": [100, 110, 126, 5.6, 6.1, 7.0], "hba1c": [5.7, 6.0, 6.5, 39, 42, 48],
    "age": [18, 30, 40, 45, 50, 55, 60, 65, 120], "mvpa_minutes_per_week": [0, 9, 10, 150, 210],
    "sleep_hours_per_night": [5, 6, 7, 8, 9], "hs_crp": [1, 3, 10],
}
RANGES = {
    "age": (18, 95), "weight": (45, 140), "height": (150, 200), "bmi": (17, 45), "waist": (60, 140),
    "hip": (80, 140), "mvpa_minutes_per_week": (0, 600), "sedentary_hours_per_day": (0, 16),
    "sleep_hours_per_night": (3, 11), "hs_crp": (0.1, 20), "il6": (0.5, 20), "tnf_alpha": (0.5, 20),
    "fasting_glucose": (65, 200), "fasting_insulin": (2, 60), "triglycerides": (40, 500),
    "hdl_cholesterol": (20, 100), "hba1c": (4.5, 10), "alt": (5, 120),
}
UNITS = {
    "fasting_glucose": [("mg/dL", 1.0), ("mmol/L", 1 / 18.0)], "triglycerides": [("mg/dL", 1.0), ("mmol/L", 1 / 88.57)],
    "hdl_cholesterol": [("mg/dL", 1.0), ("mmol/L", 1 / 38.67)], "height": [("cm", 1.0), ("m", 0.01)],
}
# labs whose unitless values are often plausible in two units (an error by design): sent with a unit
WITH_UNIT = {"hs_crp": "mg/L", "fasting_insulin": "uU/mL", "triglycerides": "mg/dL", "alt": "U/L"}
MEDS = ["prednisolone", "atenolol", "simvastatin", "metformin", "olanzapine", "tacrolimus", "H02AB06",
        "hydrochlorothiazide", "unknownium", "ritonavir"]


def random_patient(rng: random.Random) -> dict:
    sex = rng.choice(["female", "male"])
    p = {"age": rng.choice(EDGES["age"]) if rng.random() < 0.2 else round(rng.uniform(*RANGES["age"]), 1),
         "sex": sex}
    for name, (lo, hi) in RANGES.items():
        if name == "age" or rng.random() < 0.45:
            continue
        if name in EDGES and rng.random() < 0.3:
            value = rng.choice(EDGES[name])
            if name == "fasting_glucose" and value < 20:
                p[name], p["fasting_glucose_unit"] = value, "mmol/L"
                continue
            if name == "hba1c" and value > 20:
                p[name], p["hba1c_unit"] = value, "mmol/mol"
                continue
        else:
            value = round(rng.uniform(lo, hi), 2)
        if name in UNITS and rng.random() < 0.4:
            unit, factor = rng.choice(UNITS[name])
            value, p[f"{name}_unit"] = round(value * factor, 4), unit
        p[name] = value
        if name in WITH_UNIT and f"{name}_unit" not in p:
            p[f"{name}_unit"] = WITH_UNIT[name]
    if "weight" in p and "height" in p and "bmi" in p:
        del p["bmi"]
    for name, choices in (("ethnicity", ETHNICITY), ("family_history_diabetes", FAMILY_HISTORY),
                          ("smoking", SMOKING)):
        if rng.random() < 0.6:
            p[name] = rng.choice(choices)
    for name in ("hypertension", "vegetables_fruit_daily", "high_glucose_history"):
        if rng.random() < 0.5:
            p[name] = rng.random() < 0.5
    if sex == "female":
        for name in ("gestational_diabetes", "pcos"):
            if rng.random() < 0.4:
                p[name] = rng.random() < 0.3
    if rng.random() < 0.5:
        p["medications"] = rng.sample(MEDS, rng.randint(0, 3))
    return p
