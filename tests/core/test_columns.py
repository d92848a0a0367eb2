"""Columns and values as people write them: the synonyms table, units in headers, explicit mappings, the report."""
import io

import pytest

from riskservice.core import header as core
from riskservice.core.mapping import MappingProblem, load, pairs, parse
from riskservice.core.names import names_for, squash, value_key
from riskservice.rows.batch import BatchScorer, HeaderProblem
from tests.hospital import results


@pytest.mark.parametrize("name, field, unit", [
    ("Age", "age", None), ("age_years", "age", "years"), ("Gender", "sex", None), ("Sex at birth", "sex", None),
    ("BMI (kg/m2)", "bmi", "kg/m2"), ("Body mass index", "bmi", None), ("Waist circumference (cm)", "waist", "cm"),
    ("FPG", "fasting_glucose", None), ("Fasting plasma glucose", "fasting_glucose", None),
    ("fasting_glucose_mmol_l", "fasting_glucose", "mmol/L"), ("HbA1c in %", "hba1c", "%"), ("A1c", "hba1c", None),
    ("Glycated haemoglobin", "hba1c", None), ("TG", "triglycerides", None), ("Triglycerides [mg/dL]", "triglycerides",
                                                                             "mg/dL"),
    ("HDL", "hdl_cholesterol", None), ("HDL-C (mmol/L)", "hdl_cholesterol", "mmol/L"), ("hsCRP", "hs_crp", None),
    ("Medications", "medications", None), ("Weight (lbs)", "weight", "[lb_av]"), ("Fasting insulin (µIU/mL)",
                                                                                   "fasting_insulin", "uU/mL"),
    ("LBXGLU", "fasting_glucose", "mg/dL"), ("RIDAGEYR", "age", "years"), ("FastingGlucose", "fasting_glucose", None),
    ("Fasted", "fasting", None), ("Fasting (Y/N)", "fasting", None),
])
def test_header_spellings_and_units(kb, name, field, unit):
    head = names_for(kb).header(name)
    assert (head.key, head.unit, head.problem) == (field, unit, None)


@pytest.mark.parametrize("name, target", [("Glucose", "fasting_glucose"), ("CRP", "hs_crp"), ("Insulin", "fasting_insulin"),
                                          ("wieght", "weight"), ("glucose_mmol_l", "fasting_glucose")])
def test_look_alikes_and_slips_are_named(kb, name, target):
    names = names_for(kb)
    assert names.header(name) is None and names.look_alike(name)[0] == target


@pytest.mark.parametrize("name", ["LDL", "LDL-C", "Total cholesterol", "AST", "Patient ID", "Notes", "Random glucose"])
def test_ordinary_columns_of_the_same_exports_pass_through(kb, name):
    names = names_for(kb)
    assert names.header(name) is None and names.look_alike(name) is None


def test_the_plan_reports_and_refuses_what_it_cannot_read(kb):
    plan = core.plan_columns(["MRN", "Age", "Gender", "Glucose (mg/mmol)", "FPG", "Fasting glucose", "hba1c_unit"], kb)
    assert plan.report()["ignored"] == ["MRN", "Glucose (mg/mmol)", "Fasting glucose"]
    assert "also names fasting_glucose" in plan.problems["Fasting glucose"][0]
    assert "did you mean fasting_glucose" in plan.problems["Glucose (mg/mmol)"][0]
    bad_unit = core.plan_columns(["age", "sex", "HbA1c (mg)"], kb)
    assert "'mg', which is not a unit of hba1c" in bad_unit.problems["HbA1c (mg)"][0]
    missing = core.plan_columns(["Patient", "Weight"], kb).problems
    assert set(missing) == {"age", "sex"} and "map one" in missing["sex"][0]


def test_an_explicit_mapping_wins_and_is_checked(kb):
    mapping = parse({"columns": {"fasting_glucose": {"column": "Glucose", "unit": "mmol/l"}}, "ignore": ["Insulin"],
                     "values": {"sex": {"1": "male", "2": "female"}}})
    plan = core.plan_columns(["age", "SEX", "Glucose", "Insulin"], kb, mapping)
    assert not plan.problems and plan.units == {"fasting_glucose": "mmol/L"}
    assert plan.values["sex"] == {"1": "male", "2": "female"}
    assert [u["by"] for u in plan.used] == ["name", "name", "mapping"]
    assert plan.used[2]["unit_from"] == "mapping"
    with pytest.raises(MappingProblem) as exc:
        parse({"columns": {"colour": "x", "sex": 3}, "values": {"pcos": {"1": "maybe"}}, "extra": 1})
    assert set(exc.value.errors) == {"mapping", "columns.colour", "columns.sex", "values.pcos"}
    with pytest.raises(MappingProblem):
        pairs(["age"], "=")
    absent = core.plan_columns(["age", "sex"], kb, parse({"columns": {"bmi": "BMI"}}))
    assert "no such column" in absent.problems["bmi"][0]


def test_a_toml_mapping_file(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('ignore = ["SEQN"]\n[columns]\nsex = "RIAGENDR"\n[values.known_diabetes]\n"1" = true\n"3" = ""\n')
    mapping = load(path)
    assert mapping.columns == {"sex": "RIAGENDR"} and mapping.ignore == ["SEQN"]
    assert mapping.values == {"known_diabetes": {"1": True, "3": None}}


def test_values_as_people_write_them_in_a_csv(kb):
    text = ("Age,Gender,Smoking status,Fasting glucose (mg/dL),HbA1c,PCOS,code\n"
            "52 years,M,Ex-smoker,5.4 mmol/L,5.6,,1\n"
            "47,femal,never,99,42 mmol/mol,Y,2\n"
            "61,F,non smoker,104,6.0%,no,9\n")
    mapping = parse({"columns": {"known_diabetes": "code"}, "values": {"known_diabetes": {"1": False, "2": False,
                                                                                           "9": None}}})
    out = results(b"".join(BatchScorer(kb).iter_csv(io.BytesIO(text.encode()), mapping=mapping)))
    assert "fasting_glucose: two units for one value: the value says mmol/L but the column header says mg/dL" \
        in out[0]["error"]
    assert out[1]["error"] == "sex: Must be one of: female, male. Did you mean 'female'?"
    assert out[2]["error"] == "" and out[2]["points"] != ""


def test_json_array_keys_are_read_as_columns(kb):
    written = BatchScorer(kb).score_records([{"Age": "52", "Gender": "M", "Fasting glucose (mmol/L)": 5.4}])
    plain = BatchScorer(kb).score_records([{"age": 52, "sex": "male", "fasting_glucose": 5.4,
                                            "fasting_glucose_unit": "mmol/L"}])
    assert written == plain and written[0]["error"] is None
    refused = BatchScorer(kb).score_records([{"age": 50, "sex": "male", "Glucose": 5}])   # a look-alike key:
    assert "did you mean fasting_glucose" in refused[0]["error"]                          # its rows' error
    with pytest.raises(HeaderProblem):      # a faulty mapping is the whole request's problem
        BatchScorer(kb).score_records([{"age": 50, "sex": "male"}], mapping=parse({"columns": {"bmi": "BMI"}}))


def test_comparison_keys():
    assert squash("HDL-C (mmol/L)") == "hdlcmmoll" and squash("Ｈｂ Ａ１ｃ") == "hba1c"
    assert value_key(" Ex-Smoker ") == "ex_smoker" and value_key("South Asian") == "south_asian"
