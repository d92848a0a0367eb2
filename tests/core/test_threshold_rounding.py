"""Hazard H5: guideline thresholds give the same band in either unit.

A value sent in mmol/L or mmol/mol is compared with the edge as the guideline states it in that
unit (ADA: 5.6 / 7.0 mmol/L, 39 / 48 mmol/mol; WHO: 6.1 mmol/L; IEC/NICE: 42 mmol/mol), never
with a converted, rounded edge; the response still shows the unrounded canonical value."""
import pytest


def contribution(scorer, factor, value, unit):
    result = scorer.score({"age": 50, "sex": "male", factor: value, f"{factor}_unit": unit})
    return next(c for c in result["rules"]["contributions"] if c["factor"] == factor)


def test_every_stated_edge_gives_the_same_band_in_both_units(scorer, kb):
    """Sweep every band edge that states an equivalent: at the edge, and just either side of it,
    the band is the same whichever unit the value is sent in."""
    swept = 0
    for factor in kb.factors:
        for variant in factor.get("variants", []):
            bands = variant["bands"]
            for below, band in zip(bands, bands[1:], strict=False):
                for unit, stated in band.get("lower_equivalents", {}).items():
                    canonical = factor["unit"]
                    for ours, theirs, want in ((band["lower"], stated, band["id"]),
                                               (band["lower"] * 0.999, stated * 0.999, below["id"]),
                                               (band["lower"] * 1.001, stated * 1.001, band["id"])):
                        a = contribution(scorer, factor["id"], ours, canonical)
                        b = contribution(scorer, factor["id"], theirs, unit)
                        assert a["band"] == b["band"] == want, (factor["id"], ours, theirs, unit)
                        assert a["points"] == b["points"]
                    swept += 1
    assert swept >= 6


@pytest.mark.parametrize("factor, value, unit, band", [
    ("fasting_glucose", 6.1, "mmol/L", "ifg_who"), ("fasting_glucose", 110, "mg/dL", "ifg_who"),
    ("fasting_glucose", 7.0, "mmol/L", "diabetes_range"), ("fasting_glucose", 5.59, "mmol/L", "normal"),
    ("hba1c", 42, "mmol/mol", "hba1c_6_6p1"), ("hba1c", 6.0, "%", "hba1c_6_6p1"),
    ("hba1c", 41.9, "mmol/mol", "hba1c_5p9_6"), ("hba1c", 39, "mmol/mol", "hba1c_5p7_5p8"),
    ("hba1c", 48, "mmol/mol", "hba1c_ge6p5"), ("hba1c", 6.5, "%", "hba1c_ge6p5"),
])
def test_guideline_edges_in_either_unit(scorer, factor, value, unit, band):
    c = contribution(scorer, factor, value, unit)
    assert c["band"] == band
    assert c["value"] == value


def test_canonical_value_is_shown_unrounded(scorer):
    c = contribution(scorer, "fasting_glucose", 5.551, "mmol/L")
    assert c["canonical_value"] == pytest.approx(5.551 * 18.016)
