"""Hazard H5: a value converted from another unit is compared with the cut-off unrounded,
so 5.55 mmol/L (99.99 mg/dL) stays below the 100 mg/dL edge and 5.551 mmol/L is above it;
the response shows the unrounded canonical value that was compared."""
import pytest


def glucose(scorer, value):
    result = scorer.score({"age": 50, "sex": "male", "fasting_glucose": value, "fasting_glucose_unit": "mmol/L"})
    return next(c for c in result["rules"]["contributions"] if c["factor"] == "fasting_glucose")


@pytest.mark.parametrize("mmol, band, points", [(5.55, "normal", 0), (5.551, "ifg_ada", 3)])
def test_converted_value_is_not_rounded_before_the_edge(scorer, mmol, band, points):
    c = glucose(scorer, mmol)
    assert (c["band"], c["points"]) == (band, points)
    assert c["value"] == mmol and c["canonical_value"] == pytest.approx(mmol * 18.016)
