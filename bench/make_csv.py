"""Write a realistic synthetic patient CSV (fixed seed) for the batch benchmark.

Usage: python bench/make_csv.py OUT.csv [ROWS]
Values are drawn around NHANES-like adult distributions with ~10% missing cells per field,
mixed units, medication lists, and 1% corrupted rows; they are synthetic, not patient data.
"""
import sys

import numpy as np
import pandas as pd


def make(rows: int, seed: int = 20261125) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], rows)
    male = sex == "male"
    height = np.where(male, rng.normal(176, 7, rows), rng.normal(162, 6.5, rows)).round(1)
    bmi = np.clip(rng.lognormal(np.log(28), 0.2, rows), 16, 70)
    weight = (bmi * (height / 100) ** 2).round(1)
    glucose_mmol = rng.random(rows) < 0.3
    glucose = np.clip(rng.lognormal(np.log(100), 0.15, rows), 60, 400)
    insulin_pmol = rng.random(rows) < 0.2
    insulin = np.clip(rng.lognormal(np.log(10), 0.6, rows), 1, 300)
    df = pd.DataFrame({
        "record_id": np.char.add("R", np.arange(rows).astype(str)),
        "age": rng.integers(18, 90, rows),
        "sex": sex,
        "ethnicity": rng.choice(["europid", "south_asian", "east_asian", "african", "hispanic", ""], rows),
        "weight": weight,
        "height": height,
        "waist": np.clip(rng.normal(np.where(male, 100, 92), 13, rows), 55, 180).round(1),
        "mvpa_minutes_per_week": rng.choice([0, 30, 60, 90, 150, 200, 300, 450], rows),
        "sedentary_hours_per_day": rng.uniform(2, 14, rows).round(1),
        "smoking": rng.choice(["never", "former", "current"], rows, p=[0.55, 0.27, 0.18]),
        "family_history_diabetes": rng.choice(["none", "second_degree", "first_degree"], rows, p=[0.6, 0.15, 0.25]),
        "hypertension": rng.choice(["true", "false"], rows, p=[0.3, 0.7]),
        "sleep_hours_per_night": rng.normal(7, 1.2, rows).clip(3, 12).round(1),
        "hs_crp": rng.lognormal(np.log(2), 0.9, rows).clip(0.1, 80).round(2),
        "hs_crp_unit": "mg/L",        # unitless, most hs-CRP values are plausible in mg/L and mg/dL: an error
        "fasting_glucose": np.where(glucose_mmol, (glucose / 18.016).round(2), glucose.round(0)),
        "fasting_glucose_unit": np.where(glucose_mmol, "mmol/L", "mg/dL"),
        "fasting_insulin": np.where(insulin_pmol, (insulin * 6).round(0), insulin.round(1)),
        "fasting_insulin_unit": np.where(insulin_pmol, "pmol/L", "uU/mL"),
        "triglycerides": rng.lognormal(np.log(130), 0.45, rows).clip(30, 2000).round(0),
        "triglycerides_unit": "mg/dL",
        "hdl_cholesterol": rng.normal(np.where(male, 45, 55), 12, rows).clip(15, 120).round(0),
        "hba1c": rng.normal(5.6, 0.5, rows).clip(4, 12).round(1),
        "medications": rng.choice(["", "", "", "prednisolone", "atenolol;simvastatin", "metformin",
                                   "C03AA03", "olanzapine;lisinopril"], rows),
    })
    for col in [c for c in df.columns[4:] if not c.endswith("_unit")]:
        if df[col].dtype != object:
            df[col] = df[col].astype(object)
        drop = rng.random(rows) < 0.1
        df.loc[drop, col] = ""
    bad = rng.random(rows) < 0.01
    df["age"] = df["age"].astype(object)
    df.loc[bad, "age"] = "unknown"
    return df


if __name__ == "__main__":
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    make(rows).to_csv(out, index=False)
    print(f"wrote {rows} rows to {out}")
