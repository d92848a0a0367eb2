"""Groups whose held-out calibration fell outside 0.8-1.25 are told so in the answer (issue 20: 'or the model
card says why not and what the service does about it'): the warning comes from the ruleset's subgroup_caveats,
which riskservice derive-points writes from the validation, and every surface shows it."""
import io

import pytest

from riskservice.rows.batch import BatchScorer

LABS = {"hdl_cholesterol": 40, "hdl_cholesterol_unit": "mg/dL", "triglycerides": 150, "triglycerides_unit": "mg/dL",
        "fasting": True, "hba1c": 5.6, "hba1c_unit": "%"}
BASE = {"age": 50, "bmi": 27, "bmi_unit": "kg/m2", "waist": 95}


def caveats(result):
    return [w["message"] for w in result["warnings"] if w.get("code") == "subgroup_calibration"]


@pytest.fixture(scope="module")
def caveat(kb):
    found = kb.ruleset["outcome"]["subgroup_caveats"]
    assert found, "the validation found no group outside 0.8-1.25; this test has nothing to check"
    return found[0]


def test_the_named_group_with_the_named_labs_is_told(full_scorer, caveat):
    labs = {k: v for k, v in LABS.items() if k.split("_unit")[0] in caveat["labs"] or
            (k == "fasting" and "triglycerides" in caveat["labs"])}
    patient = {**BASE, "sex": caveat["sex"], "ethnicity": caveat["ethnicity"][0], **labs}
    assert caveats(full_scorer.score(patient)) == [caveat["text"]]
    other_sex = "female" if caveat["sex"] == "male" else "male"
    assert caveats(full_scorer.score({**patient, "sex": other_sex})) == []
    assert caveats(full_scorer.score({**patient, "ethnicity": "europid"})) == [] or "europid" in caveat["ethnicity"]


def test_a_different_set_of_labs_is_not_told(full_scorer, caveat):
    patient = {**BASE, "sex": caveat["sex"], "ethnicity": caveat["ethnicity"][-1]}
    assert caveats(full_scorer.score(patient)) == [] or not caveat["labs"]


def test_the_batch_rows_carry_the_same_warning(kb, models, caveat):
    header = "age,sex,ethnicity,bmi,bmi_unit,waist,hdl_cholesterol,hdl_cholesterol_unit,triglycerides," \
             "triglycerides_unit,fasting,hba1c,hba1c_unit\n"
    row = f"50,{caveat['sex']},{caveat['ethnicity'][0]},27,kg/m2,95,40,mg/dL,150,mg/dL,true,5.6,%\n"
    body = b"".join(BatchScorer(kb, models).iter_csv(io.BytesIO((header + row).encode())))
    assert caveat["text"] in body.decode()
