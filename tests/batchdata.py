"""A 10,000-row CSV in which 1,000 rows are corrupted in different ways (fixed seed)."""
import csv
import io
import random
import re

CORRUPTIONS = [
    ("age", "fifty", "not a number"),
    ("age", "130", "outside the accepted range"),
    ("sex", "unknown", "Must be one of"),
    ("smoking", "sometimes", "Must be one of"),
    ("fasting_glucose_unit", "g/L", "Must be one of"),
    ("bmi", "45", "disagrees with weight/height"),
    ("pcos", "true", "applies only to female"),
    ("hs_crp", "-3", "outside the accepted range"),
    ("hypertension", "maybe", "Not a boolean"),
    (None, None, "fields, the header has"),
]
HEADER = ["patient_id", "age", "sex", "weight", "height", "bmi", "waist", "mvpa_minutes_per_week",
          "smoking", "hs_crp", "hs_crp_unit", "fasting_glucose", "fasting_glucose_unit", "fasting_insulin",
          "fasting_insulin_unit", "triglycerides", "triglycerides_unit", "hdl_cholesterol", "medications", "pcos",
          "hypertension", "site"]


def make_csv(n=10_000, bad_every=10, seed=7):
    rng = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    expected = []
    for i in range(n):
        sex = rng.choice(["female", "male"])
        row = {
            "patient_id": f"P{i:05d}", "age": str(rng.randint(20, 85)), "sex": sex,
            "weight": f"{rng.uniform(50, 120):.1f}", "height": f"{rng.uniform(150, 195):.1f}", "bmi": "",
            "waist": f"{rng.uniform(65, 130):.1f}", "mvpa_minutes_per_week": str(rng.choice([0, 60, 150, 300])),
            "smoking": rng.choice(["never", "former", "current"]), "hs_crp": f"{rng.uniform(0.2, 8):.2f}", "hs_crp_unit": "mg/L",
            "fasting_glucose": f"{rng.uniform(4.2, 7.5):.2f}", "fasting_glucose_unit": "mmol/L",
            "fasting_insulin": f"{rng.uniform(3, 30):.1f}", "fasting_insulin_unit": "uU/mL",
            "triglycerides": f"{rng.uniform(60, 300):.0f}", "triglycerides_unit": "mg/dL",
            "hdl_cholesterol": f"{rng.uniform(30, 80):.0f}", "medications": rng.choice(["", "prednisolone", "atenolol;simvastatin", "metformin"]),
            "pcos": "false" if sex == "female" else "", "hypertension": rng.choice(["true", "false", ""]),
            "site": rng.choice(["north", "south, annex"]),
        }
        if i % bad_every == bad_every - 1:
            field, value, message = CORRUPTIONS[(i // bad_every) % len(CORRUPTIONS)]
            if field is None:
                buf.write(f"P{i:05d},{row['age']},{row['sex']}\n")   # too few fields
                expected.append(("error", message, ""))
                continue
            row[field] = value
            if field == "pcos":
                row["sex"] = "male"
            if field == "bmi":
                row["weight"], row["height"] = "60.0", "180.0"
            expected.append(("error", message, row["patient_id"]))
        else:
            expected.append(("ok", None, row["patient_id"]))
        w.writerow([row[h] for h in HEADER])
    return buf.getvalue().encode(), expected


def check_output(body: bytes, expected):
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == len(expected)
    scored = errors = 0
    for row, (kind, message, pid) in zip(rows, expected):
        assert row["patient_id"] == pid
        if kind == "ok":
            assert row["error"] == "", row
            assert row["points"] != "" and row["band"] and row["leads"], row
            if row["leads"] == "measured_homa_ir":      # a valid measurement: no probability of the outcome
                assert row["measured_homa_ir"] != "" and row["probability"] == "", row
            scored += 1
        else:
            assert message in row["error"], (message, row["error"])
            assert row["points"] == "" and row["band"] == ""
            errors += 1
        assert row["disclaimer"]
    return scored, errors


TRAILER = re.compile(rb"#riskservice-end rows=(\d+) scored=(\d+) errors=(\d+)\n\Z")


def without_trailer(body: bytes) -> bytes:
    """An HTTP CSV answer without its end marker, which must be its last line and count its rows."""
    m = TRAILER.search(body)
    assert m, f"no end marker: ...{body[-200:]!r}"
    rest = body[:m.start()]
    records = list(csv.reader(io.StringIO(rest.decode("utf-8"), newline="")))
    assert int(m.group(1)) == len(records) - 1, (m.group(0), len(records) - 1)
    assert int(m.group(2)) + int(m.group(3)) == int(m.group(1))
    return rest
