import numpy as np
import pytest

from riskservice.core.engine import Engine


def points_for(scorer, factor, **fields):
    payload = {"age": 45, "sex": "male", **fields}
    rules = scorer.score(payload)["rules"]
    match = [c for c in rules["contributions"] if c["factor"] == factor]
    assert match, f"{factor} not scored"
    return match[0].get("band_points", match[0]["points"]), match[0]["band"]


def test_every_numeric_edge_belongs_to_exactly_one_band(kb):
    """Each edge, and values just either side of it, land in the band the knowledge says,
    evaluated by the engine's own band placement for every variant of every numeric item."""
    engine = Engine(kb)
    t = engine.cx.numeric_items
    n = 0
    for k, (_, spec, variants) in enumerate(t.specs):
        for v, variant in enumerate(variants):
            cells = np.argwhere(t.variant[k] == v)
            if not len(cells):
                continue
            sex, eth = (np.array([c]) for c in cells[0])
            bands = variant["bands"]
            for b, right in enumerate(bands[1:]):
                edge = right["lower"]
                owner = b + 1 if right["lower_inclusive"] else b
                for x, want in ((edge, owner), (edge - 1e-9, b), (edge + 1e-9, b + 1)):
                    matrix = np.full((1, len(engine.cx.numeric) + len(engine.cx.index_ids)), np.nan)
                    matrix[0, t.columns[k]] = x
                    got = engine._evaluate_table(t, matrix, sex, eth, numeric=True).band[0, k]
                    assert got == want, (spec["input"], v, x)
                n += 1
    assert n >= 20


@pytest.mark.parametrize("sex, bmi, points, band", [
    ("male", 24.99, 0, "below_overweight"), ("male", 25.0, 2, "overweight"),
    ("male", 29.99, 2, "overweight"), ("male", 30.0, 5, "obese"),
    ("female", 24.99, 0, "below_overweight"), ("female", 25.0, 3, "overweight"),
    ("female", 30.0, 6, "obese"),
])
def test_bmi_bands_who_and_guh(scorer, sex, bmi, points, band):
    assert points_for(scorer, "bmi", sex=sex, bmi=bmi) == (points, band)


@pytest.mark.parametrize("ethnicity, bmi, points", [
    ("south_asian", 22.99, 0), ("south_asian", 23.0, 2), ("east_asian", 27.49, 2),
    ("japanese", 27.5, 5), ("african", 23.0, 0), ("europid", 27.5, 2),
])
def test_asian_bmi_action_points(scorer, ethnicity, bmi, points):
    assert points_for(scorer, "bmi", ethnicity=ethnicity, bmi=bmi)[0] == points


@pytest.mark.parametrize("sex, ethnicity, waist, points", [
    ("male", None, 93.9, 0), ("male", None, 94.0, 2), ("male", None, 101.9, 2), ("male", None, 102.0, 4),
    ("female", None, 79.9, 0), ("female", None, 80.0, 3), ("female", None, 88.0, 6),
    ("male", "south_asian", 89.9, 0), ("male", "south_asian", 90.0, 2), ("male", "south_asian", 120.0, 2),
    ("male", "japanese", 85.0, 2), ("female", "japanese", 89.9, 0), ("female", "japanese", 90.0, 3),
    ("male", "african", 94.0, 2), ("female", "hispanic", 80.0, 3),
])
def test_waist_cutoffs_by_sex_and_ethnicity(scorer, sex, ethnicity, waist, points):
    fields = {"sex": sex, "waist": waist}
    if ethnicity:
        fields["ethnicity"] = ethnicity
    assert points_for(scorer, "waist", **fields)[0] == points


@pytest.mark.parametrize("factor, field, value, points", [
    ("physical_inactivity", "mvpa_minutes_per_week", 149.9, 1),
    ("physical_inactivity", "mvpa_minutes_per_week", 150, 0),
    ("sleep_duration", "sleep_hours_per_night", 6.0, 1),
    ("sleep_duration", "sleep_hours_per_night", 6.01, 0),
    ("sleep_duration", "sleep_hours_per_night", 8.0, 0),
    ("sleep_duration", "sleep_hours_per_night", 8.01, 1),
    ("hs_crp", "hs_crp", 0.99, 0), ("hs_crp", "hs_crp", 3.0, 0), ("hs_crp", "hs_crp", 3.01, 1),
    ("hs_crp", "hs_crp", 10.0, 1), ("hs_crp", "hs_crp", 10.5, 1),
    ("fasting_glucose", "fasting_glucose", 99.9, 0), ("fasting_glucose", "fasting_glucose", 100, 1),
    ("fasting_glucose", "fasting_glucose", 109.9, 1), ("fasting_glucose", "fasting_glucose", 110, 4),
    ("fasting_glucose", "fasting_glucose", 126, 4),
    ("hba1c", "hba1c", 5.69, 0), ("hba1c", "hba1c", 5.7, 0), ("hba1c", "hba1c", 6.0, 7), ("hba1c", "hba1c", 6.5, 7),
    ("smoking", "smoking", "former", 0), ("smoking", "smoking", "current", 1),
    ("family_history", "family_history_diabetes", "second_degree", 0),
    ("family_history", "family_history_diabetes", "first_degree", 2),
])
def test_band_edges(scorer, factor, field, value, points):
    assert points_for(scorer, factor, **{field: value})[0] == points


def test_female_only_factors(scorer):
    assert points_for(scorer, "gestational_diabetes", sex="female", gestational_diabetes=True)[0] == 6
    assert points_for(scorer, "pcos", sex="female", pcos=True)[0] == 3
    male = scorer.score({"age": 40, "sex": "male"})["missing"]
    assert "gestational_diabetes" not in {m.get("factor") for m in male}


@pytest.mark.parametrize("points, band", [(0, "low"), (1, "low"), (2, "moderate"), (3, "moderate"),
                                          (4, "high"), (5, "high"), (6, "very_high"), (20, "very_high")])
def test_total_bands(kb, points, band):
    thresholds = kb.ruleset["bands"]["thresholds"]
    assert thresholds[int(Engine(kb).total_band(np.array([points]))[0])]["id"] == band


def test_diabetes_range_values_warn(scorer):
    result = scorer.score({"age": 50, "sex": "female", "fasting_glucose": 7.2, "fasting_glucose_unit": "mmol/L",
                           "hs_crp": 12})
    messages = " ".join(w["message"] for w in result["warnings"])
    assert "diabetes range" in messages and "acute cause" in messages


def test_exclusive_groups_count_only_the_highest(scorer):
    result = scorer.score({"age": 50, "sex": "male", "bmi": 31, "waist": 104, "fasting_glucose": 104, "hba1c": 6.1})
    by = {c["factor"]: c for c in result["rules"]["contributions"]}
    assert by["bmi"]["points"] == 5 and by["waist"]["points"] == 0 and by["waist"]["band_points"] == 4
    assert by["hba1c"]["points"] == 7 and by["fasting_glucose"]["points"] == 0
    assert result["rules"]["points"] == 12


def test_missing_factors_make_the_total_a_lower_bound(scorer, kb):
    minimal = scorer.score({"age": 50, "sex": "male"})
    rules = minimal["rules"]
    assert rules["points"] == 0 and rules["lower_bound"] is True
    assert "lower bound" in rules["lower_bound_statement"]
    missing = {m["factor"]: m["max_points"] for m in minimal["missing"] if m["kind"] == "factor"}
    assert missing["bmi"] == 5 and missing["waist"] == 4 and missing["family_history"] == 2
    assert missing["medications"] == sum(c["points"] for c in kb.drug_classes)
    # with every factor missing, the maximum equals the sum of what is missing
    assert rules["max_points"] == sum(missing.values()) - (4 + 4)  # group overlap (waist, fasting glucose)


def test_nothing_missing_is_scored_as_normal(scorer):
    result = scorer.score({"age": 50, "sex": "female", "bmi": 22})
    factors = {c["factor"] for c in result["rules"]["contributions"]}
    assert factors == {"bmi"}
    assert {m["factor"] for m in result["missing"] if m["kind"] == "factor"} >= {"waist", "hs_crp", "smoking"}


def test_medications_scored_per_class_and_unknown_echoed(scorer):
    result = scorer.score({"age": 50, "sex": "male",
                           "medications": ["prednisolone", "H02AB02", "olanzapine", "metformin", "C03AA03", "Wonderpill"]})
    meds = {c["factor"]: c for c in result["rules"]["contributions"] if c["input"] == "medications"}
    assert set(meds) == {"medication:glucocorticoids", "medication:atypical_antipsychotics", "medication:thiazides"}
    assert meds["medication:glucocorticoids"]["points"] == 2
    assert meds["medication:glucocorticoids"]["value"] == ["prednisolone", "H02AB02"]
    assert meds["medication:atypical_antipsychotics"]["points"] == 0
    assert "not scored" in meds["medication:atypical_antipsychotics"]["note"]
    unknown = [w for w in result["warnings"] if w.get("field") == "medications"]
    assert unknown[0]["unrecognised"] == ["metformin", "Wonderpill"]
