"""Surrogate indices as scored factors (issue 11): the TG/HDL-C ratio scores from an adjusted
hazard ratio above a stated cut-off; HOMA-IR and TyG are reported with their cut-offs but add no
points, because no adjusted estimate for being above a stated cut-off was found."""
import math
from pathlib import Path

import pytest

from riskservice.model.points import POINTS_UNIT, literature_points

# TG 200 / HDL 40 mg/dL = 5.0; insulin 20 uU/mL x glucose 95 mg/dL / 405 = 4.69 (HOMA-IR above 2.6);
# ln(200 x 95 / 2) = 9.16 (TyG above 8.67): every insulin-resistance index is high.
ALL_HIGH = {"age": 50, "sex": "male", "bmi": 27, "triglycerides": 200, "hdl_cholesterol": 40,
            "fasting_insulin": 20, "fasting_glucose": 95, "fasting": True}


def contribution(result, factor):
    return next((c for c in result["rules"]["contributions"] if c["factor"] == factor), None)


def test_tg_hdl_above_the_cut_off_scores_with_its_estimate_traced(scorer, kb):
    result = scorer.score({"age": 50, "sex": "male", "triglycerides": 200, "hdl_cholesterol": 40, "fasting": True})
    c = contribution(result, "tg_hdl_ratio")
    assert c["input"] == "tg_hdl" and c["canonical_value"] == pytest.approx(5.0)
    assert c["band"] == "ge_1p33" and c["points"] == 2
    effect = c["effect"]
    assert (effect["measure"], effect["estimate"], effect["ci95"], effect["reference"]) == \
        ("HR", 1.52, [1.40, 1.65], "gong2021")
    assert "fasting plasma glucose" in effect["comparison"] and "BMI" in effect["comparison"]
    assert "independence assumption" in effect["comparison"]
    assert round(math.log(1.52) / POINTS_UNIT) == 2
    assert {"gong2021", "chen2020tghdl"} <= set(c["references"]) <= set(kb.references)
    assert c["mechanisms"] == ["lipid_accumulation"]


def test_tg_hdl_points_are_the_literature_points_of_the_estimate(kb):
    factor = kb.factor_by_id["tg_hdl_ratio"]
    for band in factor["variants"][0]["bands"]:
        expected = literature_points(band["effect"], POINTS_UNIT) if band["effect"] else 0
        assert band["points"] == expected


@pytest.mark.parametrize("tg, hdl, unit, points", [
    (120, 50, "mg/dL", 0),          # 2.4
    (152.3, 50, "mg/dL", 2),        # 3.046: on the edge, which belongs to the upper band
    (152.2, 50, "mg/dL", 0),        # 3.044
    (1.33, 1.0, "mmol/L", 2),       # 1.33 in mmol/L, the paper's cut-off exactly
    (1.32, 1.0, "mmol/L", 0),
    (2.1, 1.0, "mmol/L", 2),
])
def test_tg_hdl_cut_off_in_either_unit(scorer, tg, hdl, unit, points):
    result = scorer.score({"age": 50, "sex": "female", "triglycerides": tg, "triglycerides_unit": unit,
                           "hdl_cholesterol": hdl, "hdl_cholesterol_unit": unit, "fasting": True})
    assert contribution(result, "tg_hdl_ratio")["points"] == points


def test_below_the_cut_off_scores_zero_and_no_mechanism(scorer):
    c = contribution(scorer.score({"age": 50, "sex": "male", "triglycerides": 90, "hdl_cholesterol": 60,
                                   "fasting": True}), "tg_hdl_ratio")
    assert c["band"] == "below_1p33" and c["points"] == 0 and c["mechanisms"] == []
    assert "effect" not in c


def test_only_one_insulin_resistance_index_scores_when_all_are_high(scorer, kb):
    result = scorer.score(ALL_HIGH)
    flagged = {k for k, v in result["indices"].items() if v["flagged"]}
    assert {"homa_ir", "tyg", "tg_hdl"} <= flagged
    index_ids = {ix["id"] for ix in kb.indices}
    from_indices = [c for c in result["rules"]["contributions"] if c["input"] in index_ids]
    assert [(c["factor"], c["points"]) for c in from_indices] == [("tg_hdl_ratio", 2)]
    # HOMA-IR and TyG are not factors: the same patient without lipids gets no index points
    no_lipids = {k: v for k, v in ALL_HIGH.items() if k not in ("triglycerides", "hdl_cholesterol")}
    without = scorer.score(no_lipids)
    assert without["indices"]["homa_ir"]["flagged"] is True
    assert not [c for c in without["rules"]["contributions"] if c["input"] in index_ids]


def test_adding_lipids_adds_exactly_the_ratio_and_hdl_points(scorer):
    base = {k: v for k, v in ALL_HIGH.items() if k not in ("triglycerides", "hdl_cholesterol")}
    before = scorer.score(base)["rules"]["points"]
    after = scorer.score(ALL_HIGH)["rules"]
    hdl = contribution({"rules": after}, "hdl_cholesterol")["points"]
    assert after["points"] == before + hdl + 2


def test_missing_lipids_are_a_missing_factor_worth_its_top_band(scorer):
    result = scorer.score({"age": 50, "sex": "male", "bmi": 27})
    missing = {m["factor"]: m for m in result["missing"] if m["kind"] == "factor"}
    assert missing["tg_hdl_ratio"]["max_points"] == 2
    assert missing["tg_hdl_ratio"]["input"] == "tg_hdl"
    index_missing = {m["index"]: m["needs"] for m in result["missing"] if m["kind"] == "index"}
    assert set(index_missing["tg_hdl"]) == {"triglycerides", "hdl_cholesterol"}
    summary = scorer.score({"age": 50, "sex": "male", "bmi": 27}, view="summary")
    assert {"triglycerides", "hdl_cholesterol"} <= set(summary["missing_inputs"])


def test_only_one_lipid_given_leaves_the_ratio_missing(scorer):
    result = scorer.score({"age": 50, "sex": "male", "hdl_cholesterol": 40})
    assert contribution(result, "tg_hdl_ratio") is None
    assert "tg_hdl_ratio" in {m["factor"] for m in result["missing"] if m["kind"] == "factor"}
    summary = scorer.score({"age": 50, "sex": "male", "hdl_cholesterol": 40}, view="summary")
    assert "triglycerides" in summary["missing_inputs"]


def test_missing_inputs_name_only_input_fields(scorer):
    from riskservice.core.fields import FIELD_NAMES
    summary = scorer.score({"age": 50, "sex": "male", "bmi": 27}, view="summary")
    assert set(summary["missing_inputs"]) <= set(FIELD_NAMES) | {"medications"}
    assert {"triglycerides", "hdl_cholesterol"} <= set(summary["missing_inputs"])


def test_homa_ir_and_tyg_score_nothing_and_every_text_says_why(kb):
    """Guard the claim, not just the code: if a HOMA-IR or TyG factor is ever added, the texts that say
    they add no points (clinician text, model card generator, evidence review) must change with it."""
    scored_inputs = {f["input"] for f in kb.factors}
    assert not {"homa_ir", "tyg"} & scored_inputs
    assert "HOMA-IR and TyG" in kb.factor_by_id["tg_hdl_ratio"]["clinician_text"]
    assert "add no points" in kb.factor_by_id["tg_hdl_ratio"]["clinician_text"]
    root = Path(__file__).resolve().parents[2]
    evidence = (root / "docs" / "lab-index-evidence.md").read_text(encoding="utf-8")
    assert "### HOMA-IR" in evidence and "### TyG" in evidence
    for path in ("README.md", "models/MODEL_CARD.md"):
        assert "docs/lab-index-evidence.md" in (root / path).read_text(encoding="utf-8"), path
