import pytest

from riskservice.core.errors import ValidationProblem


def errors_of(scorer, payload):
    with pytest.raises(ValidationProblem) as info:
        scorer.score(payload)
    return info.value.errors


def test_bmi_derived_from_weight_and_height(scorer):
    r = scorer.score({"age": 40, "sex": "female", "weight": 176.4, "weight_unit": "[lb_av]", "height": 65,
                      "height_unit": "[in_i]"})
    bmi = [c for c in r["rules"]["contributions"] if c["factor"] == "bmi"][0]
    assert bmi["canonical_value"] == pytest.approx(29.35, abs=0.01)
    assert bmi["value"] == pytest.approx(29.35, abs=0.01)


def test_bmi_weight_height_disagreement_over_5_percent_is_rejected(scorer):
    errs = errors_of(scorer, {"age": 40, "sex": "male", "weight": 80, "height": 180, "bmi": 27})
    assert "disagrees" in errs["bmi"][0]
    ok = scorer.score({"age": 40, "sex": "male", "weight": 80, "height": 180, "bmi": 25.5})  # 24.69 within 5%
    bmi = next(c for c in ok["rules"]["contributions"] if c["factor"] == "bmi")
    assert bmi["canonical_value"] == 25.5


def test_every_problem_is_reported_at_once(scorer):
    errs = errors_of(scorer, {"age": 15, "sex": "other", "bmi": "thirty-one", "waist": 500, "smoking": "sometimes",
                              "fasting_glucose": 70, "fasting_glucose_unit": "mmol/L", "hba1c_unit": "g",
                              "colour": "blue"})
    assert set(errs) == {"age", "sex", "bmi", "waist", "smoking", "fasting_glucose", "hba1c_unit", "colour"}
    assert "18-120" in errs["age"][0]
    assert "mmol/L" in errs["fasting_glucose"][0] and "1.11-55.51 mmol/L" in errs["fasting_glucose"][0]


def test_out_of_range_message_names_value_unit_and_range(scorer):
    errs = errors_of(scorer, {"age": 40, "sex": "male", "fasting_insulin": 9000, "fasting_insulin_unit": "pmol/L"})
    msg = errs["fasting_insulin"][0]
    assert "9000 pmol/L" in msg and "(= 1500 uU/mL)" in msg and "3-6000 pmol/L" in msg


def test_strings_are_read_only_where_unambiguous(scorer):
    """"52", "yes" and "F" mean one thing; a boolean for a number, or "1,5", does not."""
    errs = errors_of(scorer, {"age": "52", "sex": "F", "pcos": "yes", "hs_crp": True, "bmi": "31,5"})
    assert set(errs) == {"hs_crp", "bmi"}
    assert "decimal point" in errs["bmi"][0]
    written = scorer.score({"age": "52 years", "sex": "F", "pcos": "yes", "waist": "94 cm",
                            "medications": "prednisolone 5 mg; metformin 500 mg"})
    plain = scorer.score({"age": 52, "sex": "female", "pcos": True, "waist": 94, "waist_unit": "cm",
                          "medications": ["prednisolone 5 mg", "metformin 500 mg"]})
    assert written["rules"] == plain["rules"]


def test_female_only_history_rejected_for_men(scorer):
    errs = errors_of(scorer, {"age": 40, "sex": "male", "pcos": True, "gestational_diabetes": True})
    assert set(errs) == {"pcos", "gestational_diabetes"}
    rules = scorer.score({"age": 40, "sex": "male", "pcos": False})["rules"]
    assert rules["points"] == 0  # nothing scored: age did not help, and PCOS does not apply to men
    assert "pcos" not in {c["factor"] for c in rules["contributions"]}


def test_default_units_and_ethnicity_are_listed_as_assumed(scorer):
    r = scorer.score({"age": 40, "sex": "male", "waist": 100, "fasting_glucose": 90})
    assumed = {a["field"] for a in r["assumed"]}
    assert {"ethnicity", "waist_unit", "fasting_glucose_unit"} <= assumed


def test_null_means_missing(scorer):
    r = scorer.score({"age": 40, "sex": "male", "bmi": None, "waist": None})
    assert {"bmi", "waist"} <= {m.get("factor") for m in r["missing"]}
