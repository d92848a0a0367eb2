"""A hospital-style export (issue 21's headers, fixed seed) and the same data with the API's names.

``hospital_csv`` writes ``Patient ID, Age, Gender (M/F), BMI (kg/m2), Waist circumference (cm),
Fasting glucose (mmol/L), HbA1c (mmol/mol), Triglycerides (mmol/L), HDL-C (mmol/L), hsCRP (mg/L),
Medications`` (doses as people write them) plus a free-text ``Clinic note``; ``canonical_csv`` writes
the same patients with field names, ``<field>_unit`` columns and ``male``/``female``. Some rows are
wrong on purpose (a misspelt sex, an age out of range, a blank required cell), so both files score
the same number of rows and fail the same rows.
"""
from __future__ import annotations

import csv
import io
import random

HOSPITAL = ["Patient ID", "Age", "Gender", "BMI (kg/m2)", "Waist circumference (cm)", "Fasting glucose (mmol/L)",
            "HbA1c (mmol/mol)", "Triglycerides (mmol/L)", "HDL-C (mmol/L)", "hsCRP (mg/L)", "Medications", "Clinic note"]
CANONICAL = ["Patient ID", "age", "sex", "bmi", "waist", "waist_unit", "fasting_glucose", "fasting_glucose_unit",
             "hba1c", "hba1c_unit", "triglycerides", "triglycerides_unit", "hdl_cholesterol", "hdl_cholesterol_unit",
             "hs_crp", "hs_crp_unit", "medications", "Clinic note"]
MEDICATIONS = ["", "", "Metformin 500mg BD; Prednisolone 5 mg od", "Atorvastatin 20 mg nocte", "Ramipril 5mg od",
               "Prednisolone 5 mg od", "Olanzapine 10 mg; Metformin 1 g BD", "Bisoprolol 2.5 mg"]
BROKEN_SEX = ("femal", "x", "")            # a misspelling (with a suggestion), nonsense, a blank required cell


def patients(n: int = 500, seed: int = 21, broken_every: int = 25) -> list:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        male = rng.random() < 0.5
        p = {"id": f"H{i:04d}", "age": str(rng.randint(25, 85)), "sex": "male" if male else "female",
             "short": "M" if male else "F", "bmi": f"{rng.uniform(19, 42):.1f}", "waist": f"{rng.uniform(68, 128):.0f}",
             "glucose": f"{rng.uniform(4.2, 8.5):.1f}", "hba1c": f"{rng.uniform(32, 60):.0f}",
             "tg": f"{rng.uniform(0.6, 3.5):.1f}", "hdl": f"{rng.uniform(0.7, 2.2):.2f}",
             "crp": f"{rng.uniform(0.3, 9):.1f}", "meds": rng.choice(MEDICATIONS),
             "note": rng.choice(["", "seen in clinic", "follow up, 3 months"])}
        for key in ("bmi", "waist", "glucose", "hba1c", "tg", "hdl", "crp"):
            if rng.random() < 0.1:
                p[key] = ""
        if i % broken_every == broken_every - 1:
            kind = (i // broken_every) % 4
            if kind < 3:
                p["short"] = p["sex"] = BROKEN_SEX[kind]
            else:
                p["age"] = "130"
        out.append(p)
    return out


def _write(header, rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def hospital_csv(rows: list) -> bytes:
    return _write(HOSPITAL, [[p["id"], p["age"], p["short"], p["bmi"], p["waist"], p["glucose"], p["hba1c"], p["tg"],
                              p["hdl"], p["crp"], p["meds"], p["note"]] for p in rows])


def canonical_csv(rows: list) -> bytes:
    def unit(value, name):
        return name if value else ""
    return _write(CANONICAL, [[p["id"], p["age"], p["sex"], p["bmi"], p["waist"], unit(p["waist"], "cm"),
                               p["glucose"], unit(p["glucose"], "mmol/L"), p["hba1c"], unit(p["hba1c"], "mmol/mol"),
                               p["tg"], unit(p["tg"], "mmol/L"), p["hdl"], unit(p["hdl"], "mmol/L"), p["crp"],
                               unit(p["crp"], "mg/L"), p["meds"], p["note"]] for p in rows])


def results(body: bytes) -> list:
    """The output rows as dicts (CSV answer; the HTTP answer's end marker line, when there, is checked and
    left out)."""
    text = body.decode("utf-8")
    end = text.rfind("#riskservice-end rows=")
    if end >= 0:
        rows = list(csv.DictReader(io.StringIO(text[:end])))
        assert text[end:].startswith(f"#riskservice-end rows={len(rows)} "), text[end:]
        return rows
    return list(csv.DictReader(io.StringIO(text)))
