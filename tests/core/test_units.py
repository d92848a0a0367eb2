import pytest

from riskservice.core import units


@pytest.mark.parametrize("field, value, unit, expected", [
    ("fasting_glucose", 5.5506, "mmol/L", 100.0),
    ("fasting_glucose", 100, "mg/dL", 100.0),
    ("triglycerides", 1.5, "mmol/L", 132.855),
    ("hdl_cholesterol", 1.0, "mmol/L", 38.67),
    ("fasting_insulin", 60, "pmol/L", 10.0),
    ("fasting_insulin", 10, "uU/mL", 10.0),
    ("fasting_insulin", 10, "m[IU]/L", 10.0),
    ("hba1c", 48, "mmol/mol", 48 / 10.929 + 2.15),
    ("hba1c", 39, "mmol/mol", 5.718),
    ("weight", 220, "[lb_av]", 99.79032),
    ("height", 70, "[in_i]", 177.8),
    ("height", 1.78, "m", 178.0),
    ("waist", 40, "[in_i]", 101.6),
    ("hs_crp", 0.41, "mg/dL", 4.1),
    ("mvpa_minutes_per_week", 2.5, "h/wk", 150),
    ("alt", 0.5, "ukat/L", 30),
])
def test_conversion_to_canonical(kb, field, value, unit, expected):
    assert units.to_canonical(kb, field, value, unit) == pytest.approx(expected, rel=2e-4)


def test_insulin_factor_is_the_named_six(kb):
    assert units.constant(kb, "INSULIN_PMOL_PER_UU") == 6.0
    assert units.to_canonical(kb, "fasting_insulin", 6.0, "pmol/L") == pytest.approx(1.0)


def test_hba1c_ifcc_master_equation(kb):
    # mmol/mol = 10.929 x (% - 2.15): 5.7% ~ 39, 6.5% ~ 48 mmol/mol
    for pct in (5.0, 5.7, 6.5, 8.0):
        ifcc = 10.929 * (pct - 2.15)
        assert units.to_canonical(kb, "hba1c", ifcc, "mmol/mol") == pytest.approx(pct, abs=1e-9)


def test_every_quantity_has_its_canonical_unit_with_factor_one(kb):
    for name, q in kb.units["quantities"].items():
        assert q["units"][q["canonical"]]["factor"] == 1, name
        lo, hi = q["bounds"]
        assert lo < hi


def test_batch_and_scalar_conversion_agree(kb):
    import numpy as np
    arr = np.array([3.0, 5.5, 7.0])
    out = units.to_canonical(kb, "fasting_glucose", arr, "mmol/L")
    assert list(out) == [units.to_canonical(kb, "fasting_glucose", float(x), "mmol/L") for x in arr]
