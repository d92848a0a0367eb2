"""The vectorised batch path and the single-patient path agree, field by field."""
import csv
import io
import random

import pyarrow as pa
import pytest

from riskservice.core import header as core
from riskservice.core.errors import ValidationProblem
from riskservice.core.render import INDEX_COLUMNS
from riskservice.core.scoring import Scorer
from riskservice.rows.batch import BatchScorer, HeaderProblem

ETH = ["europid", "south_asian", "east_asian", "japanese", "asian", "african", "hispanic", "middle_eastern", "other"]
MEDS = ["prednisolone", "H02AB02", "olanzapine", "metformin", "C03AA03", "atenolol", "carvedilol", "niacin",
        "tacrolimus", "ritonavir", "simvastatin", "aspirin", "gliclazide", "insulin glargine"]


def random_patient(rng: random.Random, messy: bool) -> dict:
    p = {"age": rng.choice([rng.randint(18, 95), round(rng.uniform(18, 95), 1)]),
         "sex": rng.choice(["female", "male"])}
    def maybe(key, value, prob=0.6):
        if rng.random() < prob:
            p[key] = value
    maybe("ethnicity", rng.choice(ETH), 0.5)
    if rng.random() < 0.3:
        p["weight"] = round(rng.uniform(45, 140), 1)
        p["height"] = round(rng.uniform(150, 200), 1)
        if rng.random() < 0.3:
            p["weight_unit"], p["weight"] = "[lb_av]", round(p["weight"] / 0.45359237, 1)
    else:
        maybe("bmi", round(rng.uniform(17, 50), 2))
    maybe("waist", round(rng.uniform(60, 150), 1))
    if "waist" in p and rng.random() < 0.2:
        p["waist_unit"], p["waist"] = "[in_i]", round(p["waist"] / 2.54, 1)
    maybe("hip", round(rng.uniform(80, 140), 1), 0.2)
    maybe("mvpa_minutes_per_week", rng.choice([0, 30, 149, 150, 151, 300, round(rng.uniform(0, 600), 1)]))
    maybe("sedentary_hours_per_day", round(rng.uniform(0, 16), 1))
    maybe("medications", rng.sample(MEDS, rng.randint(1, 3)), 0.4)
    maybe("family_history_diabetes", rng.choice(["none", "second_degree", "first_degree"]))
    if p["sex"] == "female":
        maybe("gestational_diabetes", rng.random() < 0.2, 0.3)
        maybe("pcos", rng.random() < 0.2, 0.3)
    maybe("hypertension", rng.random() < 0.3, 0.4)
    maybe("smoking", rng.choice(["never", "former", "current"]))
    maybe("sleep_hours_per_night", rng.choice([5, 6, 7, 8, 9, round(rng.uniform(3, 11), 1)]))
    maybe("vegetables_fruit_daily", rng.random() < 0.5, 0.3)
    maybe("high_glucose_history", rng.random() < 0.2, 0.3)
    maybe("hs_crp", rng.choice([0.5, 1.0, 3.0, 10.0, round(rng.uniform(0, 20), 2)]))
    maybe("il6", round(rng.uniform(0, 10), 2), 0.2)
    maybe("tnf_alpha", round(rng.uniform(0, 10), 2), 0.2)
    if rng.random() < 0.6:
        if rng.random() < 0.3:
            p["fasting_glucose"], p["fasting_glucose_unit"] = round(rng.uniform(3.5, 9), 2), "mmol/L"
        else:
            p["fasting_glucose"] = rng.choice([99, 100, 109, 110, 126, round(rng.uniform(65, 160), 1)])
    if rng.random() < 0.5:
        if rng.random() < 0.3:
            p["fasting_insulin"], p["fasting_insulin_unit"] = round(rng.uniform(15, 200), 1), "pmol/L"
        else:
            p["fasting_insulin"] = round(rng.uniform(2, 40), 1)
    maybe("fasting", rng.random() < 0.7, 0.6)
    maybe("triglycerides", round(rng.uniform(40, 400), 1), 0.5)
    maybe("hdl_cholesterol", round(rng.uniform(20, 90), 1), 0.5)
    if rng.random() < 0.4:
        if rng.random() < 0.3:
            p["hba1c"], p["hba1c_unit"] = round(rng.uniform(30, 60), 1), "mmol/mol"
        else:
            p["hba1c"] = rng.choice([5.6, 5.7, 6.0, 6.5, round(rng.uniform(4.5, 8), 1)])
    maybe("alt", round(rng.uniform(8, 120), 1), 0.3)
    # these labs' unitless values are often plausible in two units (an error by design): sent with a unit
    for name, unit in (("hs_crp", "mg/L"), ("fasting_insulin", "uU/mL"), ("triglycerides", "mg/dL"), ("alt", "U/L")):
        if name in p and f"{name}_unit" not in p:
            p[f"{name}_unit"] = unit
    if messy:
        kind = rng.randrange(7)
        if kind == 0:
            p["age"] = rng.choice([12, 130, "abc"])
        elif kind == 1:
            p["sex"] = "other"
        elif kind == 2:
            p["fasting_glucose"], p["fasting_glucose_unit"] = 900, "mmol/L"
        elif kind == 3:
            p["bmi"], p["weight"], p["height"] = 40.0, 60.0, 180.0
        elif kind == 4:
            p["sex"], p["pcos"] = "male", True
        elif kind == 5:
            p["smoking"] = "sometimes"
        else:
            p["hba1c_unit"], p["hba1c"] = "g/L", 5.0
    return p


def to_csv_rows(patients):
    keys = sorted({k for p in patients for k in p})
    rows = []
    for p in patients:
        row = {}
        for k in keys:
            v = p.get(k)
            if v is None:
                row[k] = ""
            elif isinstance(v, bool):
                row[k] = "true" if v else "false"
            elif isinstance(v, list):
                row[k] = ";".join(v)
            else:
                row[k] = str(v)
        rows.append(row)
    return keys, rows


def single_expectation(scorer, p):
    try:
        r = scorer.score(p)
    except ValidationProblem as exc:
        return {"error_fields": set(exc.errors)}
    return {
        "points": r["rules"]["points"], "max_points": r["rules"]["max_points"], "band": r["rules"]["band"],
        "indices": {k: r["indices"][k]["value"] for k in INDEX_COLUMNS if k in r["indices"]},
        "mechanisms": [m["name"] for m in r["mechanisms"][:3]],
        "missing": ";".join(m["factor"] for m in r["missing"] if m["kind"] == "factor"),
        "warnings": {f"{w['field']}: {w['message']}" for w in r["warnings"]},
        "probability": r["model"]["probability"] if r["model"] else None,
        "dysglycaemia_probability": r["dysglycaemia"]["probability"] if r["dysglycaemia"] else None,
        "measured_homa_ir": r["measured"]["homa_ir"]["value"] if (r["measured"] or {}).get("leads") else None,
        "homa_ir_status": (None if not r["measured"] else r["measured"]["homa_ir"]["status"]
                           if r["measured"]["leads"] else "not_valid"),
        "leads": r["leads"],
    }


def batch_results(kb, keys, rows, model=None):
    n = len(rows)
    columns = {k: pa.array([row[k] for row in rows], type=pa.string()) for k in keys}
    return BatchScorer(kb, model).score_columns(columns, n)


def test_batch_equals_single_on_2000_random_patients(kb, models, full_scorer):
    scorer, model = full_scorer, models
    rng = random.Random(20261125)
    patients = [random_patient(rng, messy=rng.random() < 0.15) for _ in range(2000)]
    keys, rows = to_csv_rows(patients)
    out = {name: arr.to_pylist() for name, arr in batch_results(kb, keys, rows, model).items()}
    errors = 0
    for i, p in enumerate(patients):
        want = single_expectation(scorer, p)
        if "error_fields" in want:
            errors += 1
            assert out["error"][i] is not None, (i, p)
            fields = {part.split(":")[0] for part in out["error"][i].split(" | ")}
            assert fields == want["error_fields"], (i, p, out["error"][i])
            assert out["points"][i] is None and out["band"][i] is None
            continue
        assert out["error"][i] is None, (i, p, out["error"][i])
        assert (out["points"][i], out["max_points"][i], out["band"][i]) == \
            (want["points"], want["max_points"], want["band"]), (i, p)
        for name in INDEX_COLUMNS:
            if name in want["indices"]:
                assert out[name][i] == pytest.approx(want["indices"][name], rel=1e-12, abs=0), (i, name)
            else:
                assert out[name][i] is None, (i, name)
        got_mechs = [m for m in (out["mechanism_1"][i], out["mechanism_2"][i], out["mechanism_3"][i]) if m]
        assert got_mechs == want["mechanisms"], (i, p)
        assert out["missing_factors"][i] == want["missing"], (i, p)
        for name in ("probability", "dysglycaemia_probability", "measured_homa_ir"):
            if want[name] is None:
                assert out[name][i] is None, (i, name, p)
            else:
                assert out[name][i] == pytest.approx(want[name], rel=1e-12, abs=1e-15), (i, name, p)
        assert (out["homa_ir_status"][i], out["leads"][i]) == (want["homa_ir_status"], want["leads"]), (i, p)
        got_warn = set(w for w in (out["warnings"][i] or "").split("; ") if w)
        assert got_warn == want["warnings"], (i, p)
    assert 200 < errors < 400


def test_header_mapping_is_case_insensitive_and_passes_other_columns_through(kb):
    plan = core.plan_columns(["MRN", " Age ", "SEX", "BMI", "clinic note"], kb)
    assert plan.fields == {"age": " Age ", "sex": "SEX", "bmi": "BMI"}
    assert plan.passthrough == ["MRN", "clinic note"] and not plan.problems


@pytest.mark.parametrize("header, column", [
    (["age", "bmi"], "sex"), (["sex", "bmi"], "age"), (["age", "sex", "wieght"], "wieght"),
    (["age", "sex", "fasting_glucos"], "fasting_glucos"), (["age", "sexe"], "sexe"),
])
def test_bad_headers_are_refused_before_scoring(kb, header, column):
    assert column in core.plan_columns(header, kb).problems


def test_csv_stream_keeps_every_row_in_order(kb):
    text = ("id,age,sex,bmi,note\n"
            "a,52,male,31,x\n"
            "b,abc,male,31,y\n"
            "c,40,female\n"
            "d,300,female,22,z\n"
            "e,60,female,27,\"multi, comma\"\n")
    body = b"".join(BatchScorer(kb).iter_csv(io.BytesIO(text.encode())))
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["id"] for r in rows] == ["a", "b", "", "d", "e"]
    single = Scorer(kb).score({"age": 52, "sex": "male", "bmi": 31})["rules"]["points"]
    assert rows[0]["points"] == str(single) and rows[0]["error"] == ""   # BMI 31 scores; age does not
    assert "not a number" in rows[1]["error"]
    assert "line 4" in rows[2]["error"]
    assert "18-120" in rows[3]["error"]
    older = Scorer(kb).score({"age": 60, "sex": "female", "bmi": 27})["rules"]["points"]
    assert rows[4]["note"] == "multi, comma" and rows[4]["points"] == str(older)


def test_empty_csv_is_refused(kb):
    with pytest.raises(HeaderProblem):
        list(BatchScorer(kb).iter_csv(io.BytesIO(b"")))


def test_json_records_read_values_as_people_write_them(kb):
    rows = BatchScorer(kb).score_records([
        {"id": 7, "age": 52, "sex": "male", "bmi": 31.2},
        {"age": "52", "sex": "male"},
        "not an object",
        {"age": 40, "sex": "female", "medications": ["prednisolone"], "pcos": True},
        {"age": "52 years", "sex": "M", "bmi": "31.2"},
        {"age": "fifty", "sex": "male"},
        {"age": True, "sex": "male"},
        {"age": 52, "sex": "male"},
    ])
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert rows[0]["id"] == 7 and rows[0]["error"] is None
    assert rows[0]["points"] == Scorer(kb).score({"age": 52, "sex": "male", "bmi": 31.2})["rules"]["points"]
    assert {**rows[1], "row": 8} == rows[7]    # "52" is unambiguously 52
    assert rows[2]["error"].startswith("_row") or "age" in rows[2]["error"]
    pcos = next(b for b in kb.factor_by_id["pcos"]["variants"][0]["bands"] if b["id"] == "yes")["points"]
    assert rows[3]["points"] == pcos  # age and the glucocorticoid add no points; PCOS does
    assert {k: v for k, v in rows[4].items() if k != "row"} == {k: v for k, v in rows[0].items() if k not in ("row", "id")}
    assert rows[5]["error"] == "age: 'fifty' is not a number"
    assert rows[6]["error"] == "age: Not a number: send a JSON number."
