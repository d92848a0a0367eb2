"""Worked test vectors from clinical-facts.md section 1 (computed in double precision)."""
import numpy as np
import pytest

from riskservice.core import indices as ix

REL = 1e-4


def v(**kw):
    return kw


@pytest.mark.parametrize("insulin, glucose_mgdl, expected, rel", [
    (10, 5.0 * 18.016, 2.2222, 1e-3),     # 5.0 mmol/L; 405 vs 405.36 convention: 0.1% tolerance
    (15, 100, 3.7037, REL),                # the /405 value from the facts
    (12, 5.5 * 18.016, 2.9333, 1e-3),
    (14, 104, 3.5951, REL),                # acceptance patient: 14 x 104 / 405
    (60 / 6.0, 6.1 * 18.016, 2.7111, 1e-3),
])
def test_homa_ir(insulin, glucose_mgdl, expected, rel):
    assert ix.homa_ir(v(fasting_insulin=insulin, fasting_glucose=glucose_mgdl)) == pytest.approx(expected, rel=rel)


@pytest.mark.parametrize("insulin, glucose, expected", [(10, 90, 0.3385), (5, 85, 0.3805), (25, 110, 0.2908)])
def test_quicki(insulin, glucose, expected):
    assert ix.quicki(v(fasting_insulin=insulin, fasting_glucose=glucose)) == pytest.approx(expected, rel=REL * 2)


@pytest.mark.parametrize("tg, glucose, expected", [(150, 100, 8.9227), (100, 90, 8.4118), (250, 110, 9.5288)])
def test_tyg(tg, glucose, expected):
    assert ix.tyg(v(triglycerides=tg, fasting_glucose=glucose)) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("tg, hdl, expected", [(150, 40, 3.75), (100, 60, 1.6667), (200, 35, 5.7143)])
def test_tg_hdl(tg, hdl, expected):
    assert ix.tg_hdl(v(triglycerides=tg, hdl_cholesterol=hdl)) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("g, tg, bmi, hdl, expected", [
    (100, 150, 30, 40, 47.6399), (90, 100, 25, 55, 35.1530), (110, 250, 35, 35, 60.5695)])
def test_mets_ir(g, tg, bmi, hdl, expected):
    assert ix.mets_ir(v(fasting_glucose=g, triglycerides=tg, bmi=bmi, hdl_cholesterol=hdl)) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("insulin, tg_mmol, expected", [(10, 1.5, 6.4211), (20, 2.5, 4.5138), (5, 0.8, 9.4738)])
def test_mcauley_uses_tg_in_mmol(insulin, tg_mmol, expected):
    tg_mgdl = tg_mmol * 88.57
    assert ix.mcauley(v(fasting_insulin=insulin, triglycerides=tg_mgdl)) == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("hdl, tg, bmi, expected", [(50, 100, 25, 6.6377), (40, 150, 30, 4.6018), (60, 80, 22, 8.5178)])
def test_spise(hdl, tg, bmi, expected):
    assert ix.spise(v(hdl_cholesterol=hdl, triglycerides=tg, bmi=bmi)) == pytest.approx(expected, rel=REL)


def test_whtr():
    assert ix.whtr(v(waist=90, height=180)) == 0.5


def test_indices_in_a_response_name_cutoff_population_and_flag(scorer):
    result = scorer.score({"age": 50, "sex": "male", "fasting_glucose": 104, "fasting_insulin": 14, "fasting_insulin_unit": "uU/mL",
                           "triglycerides": 180, "hdl_cholesterol": 38, "bmi": 31.2})
    homa = result["indices"]["homa_ir"]
    assert homa["value"] == pytest.approx(3.5951, rel=REL)
    assert homa["flagged"] is True and homa["cutoff"]["value"] == 3.51
    assert homa["cutoff"]["text"] == "HOMA-IR above 3.51 (the 75th percentile of US adults without diabetes)"
    assert "NHANES 2015-2018" in homa["cutoff"]["population"]
    assert [c["value"] for c in homa["alternative_cutoffs"]] == [2.6, 1.775, 4.65]   # cited comparisons only
    assert "405" in homa["formula"]
    assert result["indices"]["tg_hdl"]["cutoff"]["value"] == 3.0
    assert set(result["indices"]) == {"homa_ir", "quicki", "tyg", "tg_hdl", "mets_ir", "mcauley", "spise"}


def test_ethnicity_specific_tg_hdl_cutoff(scorer):
    result = scorer.score({"age": 50, "sex": "male", "ethnicity": "african", "triglycerides": 90, "hdl_cholesterol": 40})
    assert result["indices"]["tg_hdl"]["cutoff"]["value"] == 2.0
    assert result["indices"]["tg_hdl"]["flagged"] is True


def test_missing_index_inputs_are_named(scorer):
    result = scorer.score({"age": 50, "sex": "male", "fasting_glucose": 100})
    needs = {m["index"]: m["needs"] for m in result["missing"] if m["kind"] == "index"}
    assert needs["homa_ir"] == ["fasting_insulin"]


def test_molar_units_give_the_same_indices(scorer):
    mass = scorer.score({"age": 50, "sex": "male", "fasting_glucose": 100, "fasting_insulin": 10, "fasting_insulin_unit": "uU/mL",
                         "triglycerides": 150, "hdl_cholesterol": 40})["indices"]
    molar = scorer.score({"age": 50, "sex": "male", "fasting_glucose": 100 / 18.016, "fasting_glucose_unit": "mmol/L",
                          "fasting_insulin": 60, "fasting_insulin_unit": "pmol/L",
                          "triglycerides": 150 / 88.57, "triglycerides_unit": "mmol/L",
                          "hdl_cholesterol": 40 / 38.67, "hdl_cholesterol_unit": "mmol/L"})["indices"]
    for name in mass:
        assert molar[name]["value"] == pytest.approx(mass[name]["value"], rel=1e-9)


def test_mcauley_tg_factor_is_the_unit_tables(kb):
    """McAuley needs TG in mmol/L; its factor must be the one units.json converts with."""
    assert ix.TG_MGDL_PER_MMOL == kb.units["quantities"]["triglycerides"]["units"]["mmol/L"]["factor"]


def test_every_formula_gives_nan_when_any_input_is_missing(kb):
    """The engine relies on it: a row missing an input gets NaN without a mask of its own."""
    from riskservice.core.indices import FORMULAS

    for index in kb.indices:
        for missing in index["inputs"]:
            v = {name: np.array([np.nan if name == missing else 50.0]) for name in index["inputs"]}
            assert np.isnan(FORMULAS[index["id"]](v)).all(), (index["id"], missing)
