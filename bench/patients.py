"""Varied, valid patients for the benchmarks: a different body in every request, so no layer
(engine caches, CPU caches, a proxy) can answer from an earlier result. Deterministic (seeded)."""
from __future__ import annotations

import json
import random

MEDICATIONS = (["prednisolone"], ["metformin"], ["atorvastatin", "ramipril"], ["quetiapine"], [],
               ["hydrochlorothiazide"], ["metoprolol", "amlodipine"], ["levothyroxine"])


def patient(rng: random.Random) -> dict:
    sex = rng.choice(("female", "male"))
    p = {"age": rng.randint(20, 85), "sex": sex, "bmi": round(rng.uniform(18.5, 45), 1),
         "waist": rng.randint(62, 140), "mvpa_minutes_per_week": rng.randint(0, 600),
         "family_history_diabetes": rng.choice(("none", "second_degree", "first_degree")),
         "hs_crp": round(rng.uniform(0.2, 10), 1), "fasting_glucose": rng.randint(70, 125),
         "fasting_glucose_unit": "mg/dL", "fasting_insulin": round(rng.uniform(2, 30), 1),
         "fasting_insulin_unit": "uU/mL", "hs_crp_unit": "mg/L",
         "triglycerides": rng.randint(50, 400), "triglycerides_unit": "mg/dL", "hdl_cholesterol": rng.randint(25, 90)}
    if rng.random() < 0.7:
        p["medications"] = rng.choice(MEDICATIONS)
    if rng.random() < 0.5:
        p["ethnicity"] = rng.choice(("europid", "south_asian", "east_asian", "african", "hispanic"))
    if rng.random() < 0.5:
        p["smoking"] = rng.choice(("never", "former", "current"))
    if rng.random() < 0.4:
        p["sleep_hours_per_night"] = round(rng.uniform(4, 10), 1)
    if sex == "female" and rng.random() < 0.3:
        p["pcos"] = rng.random() < 0.3
    return p


def bodies(n: int = 2000, seed: int = 13) -> list[str]:
    """``n`` distinct JSON bodies, one per line when written out."""
    rng = random.Random(seed)
    out = list(dict.fromkeys(json.dumps(patient(rng), separators=(",", ":")) for _ in range(n)))
    return out
