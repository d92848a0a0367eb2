"""Labs under the insulin-resistance outcome (issue 20): HDL, fasting triglycerides and HbA1c adjust what the
risk factors predict (a typical value scores 0, a lab not given counts as typical); fasting glucose and insulin
define the outcome, so they never score; the indices and the TG/HDL ratio are reported, never points."""
import pytest

# TG 200 / HDL 40 mg/dL = 5.0; insulin 20 uU/mL x glucose 95 mg/dL / 405 = 4.69; ln(200 x 95 / 2) = 9.16
ALL_HIGH = {"age": 50, "sex": "male", "bmi": 27, "triglycerides": 200, "triglycerides_unit": "mg/dL",
            "hdl_cholesterol": 40, "hdl_cholesterol_unit": "mg/dL", "fasting_insulin": 20,
            "fasting_insulin_unit": "uU/mL", "fasting_glucose": 95, "fasting_glucose_unit": "mg/dL"}


def contribution(result, factor):
    return next((c for c in result["rules"]["contributions"] if c["factor"] == factor), None)


def points_of(result, factor):
    c = contribution(result, factor)
    return 0 if c is None else c["points"]


def test_no_index_and_no_ratio_scores_when_all_are_high(scorer, kb):
    result = scorer.score(ALL_HIGH)
    flagged = {k for k, v in result["indices"].items() if v["flagged"]}
    assert {"homa_ir", "tyg", "tg_hdl"} <= flagged
    index_ids = {ix["id"] for ix in kb.indices}
    assert all(c["points"] == 0 for c in result["rules"]["contributions"] if c["input"] in index_ids)
    assert points_of(result, "tg_hdl_ratio") == 0


@pytest.mark.parametrize("glucose", [70, 99, 100, 110, 125])
def test_fasting_glucose_is_part_of_the_outcome_and_never_scores(scorer, glucose):
    base = scorer.score({"age": 50, "sex": "male", "bmi": 27})["rules"]["points"]
    with_glucose = scorer.score({"age": 50, "sex": "male", "bmi": 27, "fasting_glucose": glucose,
                                 "fasting_glucose_unit": "mg/dL"})
    assert with_glucose["rules"]["points"] == base
    assert points_of(with_glucose, "fasting_glucose") == 0


def test_hdl_moves_the_total_both_ways_from_a_typical_value(scorer, kb):
    base = {"age": 50, "sex": "female", "bmi": 27, "waist": 90}
    none = scorer.score(base)["rules"]["points"]
    low = scorer.score({**base, "hdl_cholesterol": 30, "hdl_cholesterol_unit": "mg/dL"})["rules"]["points"]
    high = scorer.score({**base, "hdl_cholesterol": 85, "hdl_cholesterol_unit": "mg/dL"})["rules"]["points"]
    bands = kb.factor_by_id["hdl_cholesterol"]["variants"][0]["bands"]
    typical = next(b for b in bands if b["points"] == 0 and b["lower"] is not None)
    mid = scorer.score({**base, "hdl_cholesterol": typical["lower"], "hdl_cholesterol_unit": "mg/dL"})["rules"]["points"]
    assert low > mid == none > high


def test_hba1c_in_the_diabetes_range_is_flagged_not_just_scored(scorer):
    result = scorer.score({"age": 50, "sex": "male", "bmi": 27, "hba1c": 6.8})
    assert result["diabetes_range"] is True
