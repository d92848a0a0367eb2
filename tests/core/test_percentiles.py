"""Where the patient stands: percentiles recomputed here, independently, from the shipped NHANES
table; the shipped file is what its command gives; start-up refuses a broken file."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskservice.core.errors import KnowledgeError
from riskservice.core.knowledge import load_knowledge

TABLE = Path(__file__).resolve().parents[2] / "riskservice" / "model" / "data" / "nhanes_fasting_2015_2018.csv"


@pytest.fixture(scope="module")
def adults():
    """The primary sample, written out here from the table's columns: no diabetes told (yes), no
    insulin, no pills, not pregnant, glucose and insulin measured, neither in the diabetes range."""
    t = pd.read_csv(TABLE)
    keep = ((t["told_diabetes"] != "yes") & (t["taking_insulin"] != "yes") & (t["taking_diabetes_pills"] != "yes")
            & (t["pregnant"] != "yes") & t["fasting_glucose_mg_dl"].notna() & t["fasting_insulin_uu_ml"].notna()
            & ~(t["fasting_glucose_mg_dl"] >= 126) & ~(t["hba1c_percent"] >= 6.5))
    t = t[keep].copy()
    t["homa_ir"] = t["fasting_insulin_uu_ml"] * t["fasting_glucose_mg_dl"] / 405
    return t


def _weighted(values: pd.Series, weights: pd.Series):
    """Each value at the middle of its own weight (Hazen-type weighted positions)."""
    order = np.argsort(values.to_numpy(), kind="mergesort")
    x, w = values.to_numpy()[order], weights.to_numpy()[order]
    position = (np.cumsum(w) - w / 2) / w.sum()
    return x, position


@pytest.mark.parametrize("patient, measure, column, sex, ages", [
    ({"age": 45, "sex": "female", "fasting_glucose": 101, "fasting_insulin": 16, "fasting_insulin_unit": "uU/mL"}, "fasting_insulin",
     "fasting_insulin_uu_ml", "female", (40, 49)),
    ({"age": 63, "sex": "male", "bmi": 31.0}, "bmi", "bmi", "male", (60, 69)),
    ({"age": 77, "sex": "female", "fasting_glucose": 100, "fasting_insulin": 12, "fasting_insulin_unit": "uU/mL"}, "homa_ir", "homa_ir", "female",
     (70, 200)),
])
def test_three_percentiles_recomputed_from_the_shipped_table(scorer, adults, patient, measure, column, sex, ages):
    got = scorer.score(patient, view="standard")["percentiles"][measure]
    group = adults[(adults["sex"] == sex) & adults["age"].between(*ages) & adults[column].notna()]
    x, position = _weighted(group[column], group["weight_pooled"])
    value = patient.get(measure, patient.get("fasting_insulin", 0) * patient.get("fasting_glucose", 0) / 405)
    expected = 100 * float(np.interp(value, x, position))
    assert got["value"] == pytest.approx(value)
    assert got["percentile"] == pytest.approx(expected, abs=0.6)   # read back from 99 stored percentiles
    assert got["n"] == len(group)
    assert got["p10"] == pytest.approx(float(np.interp(0.10, position, x)), rel=1e-5)
    assert got["p90"] == pytest.approx(float(np.interp(0.90, position, x)), rel=1e-5)
    people = "women" if sex == "female" else "men"
    assert got["text"].endswith(f"percentile of US {people} aged {got['age_band']} without diabetes")


def test_the_sample_is_the_insulin_resistance_outcomes_sample(kb, adults):
    """Its weighted 75th percentile of HOMA-IR is the outcome's cut-off (ruleset.json)."""
    x, position = _weighted(adults["homa_ir"], adults["weight_pooled"])
    assert round(float(np.interp(0.75, position, x)), 2) == kb.ruleset["outcome"]["cutoff"]


def test_the_shipped_file_is_what_the_command_gives():
    from riskservice.cli import main
    result = CliRunner().invoke(main, ["derive-percentiles", "--check"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


def test_ends_of_the_range_and_discrete_values(scorer, kb):
    low = scorer.score({"age": 30, "sex": "male", "fasting_glucose": 60, "fasting_insulin": 1}, view="standard")
    assert low["percentiles"]["fasting_glucose"]["beyond"] == "below"
    assert "below the 1st percentile" in low["percentiles"]["fasting_glucose"]["text"]
    high = scorer.score({"age": 30, "sex": "male", "triglycerides": 2000}, view="standard")["percentiles"]
    assert high["triglycerides"]["beyond"] == "above" and high["triglycerides"]["percentile"] == 99
    # HbA1c comes in steps of 0.1%: a value many stored percentiles share reads as their middle
    q = kb.percentiles["measures"]["hba1c"]["groups"]["female"]["50-59"]["quantiles"]
    tied = [k + 1 for k, v in enumerate(q) if v == 5.6]
    assert len(tied) > 3
    got = scorer.score({"age": 55, "sex": "female", "hba1c": 5.6}, view="standard")["percentiles"]["hba1c"]
    assert got["percentile"] == pytest.approx((tied[0] + tied[-1]) / 2)
    assert scorer.score({"age": 19, "sex": "female", "bmi": 25}, view="standard")["percentiles"] == {}


def _break(directory: Path, change):
    path = directory / "percentiles.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["measures"]["bmi"]["groups"]["female"]["20-29"]["quantiles"].reverse(), "in order"),
    (lambda d: d["measures"]["bmi"]["groups"]["male"].pop("30-39"), "no group for male 30-39"),
    (lambda d: d["measures"]["waist"].update(unit="in"), "not the canonical"),
    (lambda d: d["measures"].update(colour=d["measures"]["bmi"]), "neither an input field nor an index"),
    (lambda d: d["generated"].update(generator="by hand"), "generated"),
])
def test_start_up_refuses_a_broken_percentiles_file(knowledge_copy, change, message):
    _break(knowledge_copy, change)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(knowledge_copy)
