"""The points score is generated, not hand-edited: committed tables equal the generator's output from
the committed fit, a refit reproduces the fit, and issue 11's acceptance figures hold."""
from __future__ import annotations

import json
import math
import shutil
from itertools import pairwise
from pathlib import Path

import pytest

from riskservice.core.knowledge import default_dir, load_knowledge
from riskservice.core.readability import fk_grade
from riskservice.model import derive
from riskservice.model import points as P
from riskservice.model import points_report as R

REPO = Path(__file__).resolve().parents[2]
FIT = REPO / "models" / "points_fit.json"
GENERATED_FILES = ("factors", "drug_classes", "ruleset")


@pytest.fixture(scope="module")
def fit_doc():
    return json.loads(FIT.read_text())


@pytest.fixture(scope="module")
def nhanes_data():
    return P.nhanes()


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
    age = next(f for f in doc["factors"] if f["id"] == "age")
    age["variants"][0]["bands"][3]["points"] += 1
    (out / "factors.json").write_text(json.dumps(doc))
    with pytest.raises(Exception, match="coefficient and reference value give"):
        load_knowledge(out)


def test_points_follow_sullivan_from_the_fit(fit_doc):
    fit_ = fit_doc["fit"]
    kb = load_knowledge()
    assert kb.points_unit == fit_["points_unit"] == P.POINTS_UNIT
    assert kb.ruleset["points_method"]["generated"]["data_sha256"] == fit_doc["data"]["sha256"]
    age = next(f for f in kb.factors if f["id"] == "age")["variants"][0]["bands"]
    # B = 0.25 log-odds, age coefficient ~0.061/year: about one point per 4 years
    expected = [P.round_half_away(fit_["coefficients"]["age"] * (w - 22.5) / 0.25)
                for w in fit_["reference_values"]["age"]]
    assert [b["points"] for b in age] == expected
    assert expected == sorted(expected) and expected[0] == 0 and expected[-1] >= 12


def test_refit_reproduces_the_committed_fit(fit_doc, nhanes_data):
    canon, y, sha = nhanes_data
    assert sha == fit_doc["data"]["sha256"]
    fresh = P.fit(canon, y)
    committed = fit_doc["fit"]
    assert fresh["n"] == committed["n"] and fresh["events"] == committed["events"]
    for term, b in committed["coefficients"].items():
        assert fresh["coefficients"][term] == pytest.approx(b, abs=1e-4), term
    assert fresh["reference_values"] == committed["reference_values"]
    # integer points: equal wherever the unrounded value is not within 1e-3 of a .5 boundary
    new, old = P.tables(fresh), P.tables(committed)
    for fid, bands in old.items():
        for a, b in zip(bands, new[fid]):
            s = a["sullivan"]
            raw = s["coefficient"] * (s["reference_value"] - s["base_value"]) / committed["points_unit"]
            if abs(abs(raw) % 1 - 0.5) > 1e-3:
                assert a["points"] == b["points"], (fid, a["id"])


def test_derive_points_end_to_end_reproduces_the_committed_report(fit_doc, nhanes_data, tmp_path):
    """The real command, into copies: same tables, same bands, same figures (to a tolerance)."""
    from click.testing import CliRunner

    from riskservice.cli import main
    knowledge = tmp_path / "knowledge"
    shutil.copytree(default_dir(), knowledge)
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(REPO / "models" / "MODEL_CARD.md", models / "MODEL_CARD.md")
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    res = CliRunner().invoke(main, ["derive-points", "--models", str(models), "--readme", str(readme),
                                    "--knowledge", str(knowledge)])
    assert res.exit_code == 0, res.output
    fresh = json.loads((models / "points_fit.json").read_text())
    assert fresh["bands"] == fit_doc["bands"]
    for key, a in fit_doc["validation"]["auc"].items():
        assert fresh["validation"]["auc"][key]["auc"] == pytest.approx(a["auc"], abs=0.005), key
    for name in GENERATED_FILES:
        assert json.loads((knowledge / f"{name}.json").read_text()) == \
            json.loads((default_dir() / f"{name}.json").read_text()), name
    assert R.BEGIN in readme.read_text() and "Points-to-risk" in readme.read_text()


def test_report_sections_are_current(fit_doc):
    kb = load_knowledge()
    assert R.section(fit_doc, kb) in (REPO / "models" / "MODEL_CARD.md").read_text()
    assert R.section(fit_doc, kb, short=True) in (REPO / "README.md").read_text()


# ---------------------------------------------------------------------------------------------
# acceptance (issue 11), recomputed from the committed report's raw figures
def test_points_discriminate_like_the_model_and_beat_findrisc(fit_doc):
    auc = fit_doc["validation"]["auc"]
    pts = auc["points_complete_cases"]["auc"]
    assert pts >= 0.77
    assert auc["logistic_complete_cases"]["auc"] - pts <= 0.02
    assert pts - auc["findrisc_complete_cases"]["auc"] >= 0.04
    assert auc["points_complete_cases"]["n"] == auc["logistic_complete_cases"]["n"]


def test_bands_rise_and_none_holds_more_than_40_percent(fit_doc):
    stats = fit_doc["validation"]["band_stats"]
    prev = [b["observed_prevalence"] for b in stats]
    assert all(a < b for a, b in pairwise(prev))
    assert prev[0] <= 0.30 and prev[-1] >= 0.70
    assert max(b["share_of_adults"] for b in stats) <= 0.40
    assert sum(b["n"] for b in stats) == fit_doc["validation"]["n"]
    assert [b["id"] for b in stats] == [b["id"] for b in load_knowledge().ruleset["bands"]["thresholds"]]


def test_points_to_risk_table_is_monotone_and_covers_everyone(fit_doc):
    table = fit_doc["validation"]["points_to_risk"]
    risks = [r["risk"] for r in table]
    assert risks == sorted(risks)
    assert sum(r["n"] for r in table) == fit_doc["validation"]["n"]


def test_reaven_miller_bmi_alone_ranks_lean_people(fit_doc):
    rm = fit_doc["validation"]["reaven_miller"]
    assert rm["female_without_glucose"]["auc"] >= 0.72


def test_unrounded_log_odds_are_what_the_points_were_rounded_from(kb):
    """The report's 'before rounding' figure uses the same bands: dividing by B and rounding gives the points."""
    import numpy as np
    for factor_id, values in (("bmi", np.arange(15.0, 45.0, 0.25)), ("fasting_glucose", np.arange(60.0, 126.0, 0.5))):
        factor = next(f for f in kb.factors if f["id"] == factor_id)
        log_odds = derive.band_log_odds(kb, factor_id, values)
        for band in factor["variants"][0]["bands"]:
            lo = -np.inf if band["lower"] is None else band["lower"]
            hi = np.inf if band["upper"] is None else band["upper"]
            inside = (values >= lo) & (values < hi)
            assert all(P.round_half_away(x / P.POINTS_UNIT) == band["points"] for x in log_odds[inside]), band["id"]


@pytest.mark.xfail(strict=True, reason="not met: fasting glucose 100-125 mg/dL carries adjusted incident-diabetes "
                   "HRs (Egan 2020: 3 and 7 points), which outweigh BMI among these lean, non-overt volunteers "
                   "where glucose ranks SSPG at AUC 0.62; see the model card")
def test_reaven_miller_bmi_and_glucose_reach_0_72(fit_doc):
    rm = fit_doc["validation"]["reaven_miller"]
    assert min(rm["female_with_glucose"]["auc"], rm["male_with_glucose"]["auc"]) >= 0.72


def test_patient_disclaimer_is_plain(kb):
    text = kb.ruleset["disclaimer"]["patient_text"]
    assert fk_grade(text) <= 9 and "not a diagnosis" in text
    assert not math.isnan(fk_grade(text))
