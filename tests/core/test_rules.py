import numpy as np
import pytest

from riskservice.core.compiled import BAND
from riskservice.core.engine import Engine
from riskservice.core.engine.arrays import SMALL_BATCH


def points_for(scorer, factor, **fields):
    payload = {"age": 45, "sex": "male", **fields}
    payload.update({f"{name}_unit": unit for name, unit in (("hs_crp", "mg/L"),) if name in fields})
    rules = scorer.score(payload)["rules"]
    match = [c for c in rules["contributions"] if c["factor"] == factor]
    assert match, f"{factor} not scored"
    return match[0].get("band_points", match[0]["points"]), match[0]["band"]


def test_every_numeric_edge_belongs_to_exactly_one_band(kb):
    """Each edge, and values just either side of it, land in the band the knowledge says,
    evaluated by the engine's own band placement (one row at a time, and all rows as one
    block, which takes the batch path) for every variant of every numeric item."""
    engine = Engine(kb)
    cx, sl = engine.cx, engine.slots
    cases = []      # (item, context, unit, value, wanted band)
    for group, (num, _) in sl.blocks.items():
        for k, (_, spec, variants) in enumerate(cx.items[group][0].specs):
            i = num.start + k
            j = cx.numeric_index.get(spec["input"])
            unit = int(cx.canonical_unit[j]) if j is not None and len(cx.unit_names[j]) > 1 else 0
            for v, variant in enumerate(variants):
                contexts = np.flatnonzero(sl.context[0, i] == v)
                if not len(contexts):
                    continue
                bands = variant["bands"]
                for b, right in enumerate(bands[1:]):
                    edge = right["lower"]
                    owner = b + 1 if right["lower_inclusive"] else b
                    for x, want in ((edge, owner), (edge - 1e-9, b), (edge + 1e-9, b + 1)):
                        cases.append((i, contexts[0], unit, x, want))
    assert len(cases) >= 60
    x = np.full((sl.n_items, len(cases)), np.nan)                 # item-major, as the engine bands
    rows = np.zeros((sl.n_items, len(cases)), dtype=np.intp)
    base = np.zeros((sl.n_items, len(cases)), dtype=np.intp)
    units = np.zeros((len(cx.numeric), len(cases)), dtype=np.intp)
    for r, (i, context, unit, value, _) in enumerate(cases):
        x[i, r] = value
        rows[:, r] = sl.context[1, :, context]
        base[:, r] = sl.context[2, :, context]
        units[:, r] = unit * np.array([len(u) > 1 for u in cx.unit_names])
    block = engine._slots(x, rows, units)
    assert len(cases) > SMALL_BATCH
    one_by_one = np.hstack([engine._slots(x[:, r:r + 1], rows[:, r:r + 1], units[:, r:r + 1])
                            for r in range(len(cases))])
    np.testing.assert_array_equal(block, one_by_one)
    bands = sl.ints[BAND].take(base + block).T
    for r, (i, _, _, value, want) in enumerate(cases):
        assert bands[r, i] == want, (i, value)
        assert (bands[r, np.arange(sl.n_items) != i] == -1).all()


def test_large_blocks_band_like_single_rows_in_every_context(kb):
    """Random values (NaN included) in every context (sex or ethnicity missing, items that do
    not apply) and every accepted unit: the large-block banding equals the one-row broadcast."""
    engine = Engine(kb)
    cx, sl = engine.cx, engine.slots
    rng = np.random.default_rng(13)
    n = 4 * SMALL_BATCH + 7
    context = rng.integers(0, sl.context.shape[2], n)
    x = rng.choice([-1e3, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 5.5, 7.0, 30.0, 100.0, 1e4, np.nan], (sl.n_items, n))
    x += rng.normal(0, 0.5, x.shape) * rng.integers(0, 2, x.shape)
    rows = sl.context[1][:, context]
    units = np.stack([rng.integers(0, len(u), n) for u in cx.unit_names])
    block = engine._slots(x, rows, units)
    one_by_one = np.hstack([engine._slots(x[:, r:r + 1], rows[:, r:r + 1], units[:, r:r + 1]) for r in range(n)])
    np.testing.assert_array_equal(block, one_by_one)
    assert (block == 0).any() and (block > 1).any()


@pytest.mark.parametrize("age, points", [
    (18, 0), (24.99, 0), (25, 1), (39.99, 4), (40, 5), (50, 7), (64.99, 10), (65, 11), (79.99, 14), (80, 15), (95, 15),
])
def test_age_scores_from_the_nhanes_fit(scorer, age, points):
    assert points_for(scorer, "age", age=age)[0] == points


@pytest.mark.parametrize("bmi, points", [
    (17, 0), (19.99, 0), (20, 1), (22.99, 1), (23, 2), (26.99, 2), (27, 3), (29.99, 3), (30, 4),
    (32.5, 5), (35, 6), (40, 8), (55, 8),
])
def test_bmi_ranks_lean_people_too(scorer, bmi, points):
    # 1 kg/m2 categories from 19 to 30 (Reaven-Miller spans BMI 16-26); same table for both sexes
    assert points_for(scorer, "bmi", bmi=bmi)[0] == points
    assert points_for(scorer, "bmi", sex="female", bmi=bmi)[0] == points


@pytest.mark.parametrize("ethnicity, points", [
    ("europid", 0), ("african", 4), ("south_asian", 5), ("east_asian", 5), ("japanese", 5),
    ("hispanic", 3), ("middle_eastern", 0), ("other", 3),
])
def test_ethnicity_points_carry_risk_at_the_same_bmi(scorer, ethnicity, points):
    assert points_for(scorer, "ethnicity", ethnicity=ethnicity)[0] == points


@pytest.mark.parametrize("hdl, points", [(30, 4), (39.9, 4), (40, 3), (50, 2), (60, 1), (69.9, 1), (70, 0), (95, 0)])
def test_low_hdl_scores(scorer, hdl, points):
    assert points_for(scorer, "hdl_cholesterol", hdl_cholesterol=hdl)[0] == points


def test_waist_is_reported_not_scored_twice(scorer):
    points, band = points_for(scorer, "waist", waist=120)
    assert (points, band) == (0, "reported")


@pytest.mark.parametrize("factor, field, value, points", [
    ("physical_inactivity", "mvpa_minutes_per_week", 0, 0),
    ("physical_inactivity", "mvpa_minutes_per_week", 150, 0),
    ("sedentary_time", "sedentary_hours_per_day", 12, 0),
    ("sleep_duration", "sleep_hours_per_night", 6.0, 1),
    ("sleep_duration", "sleep_hours_per_night", 6.01, 0),
    ("sleep_duration", "sleep_hours_per_night", 9.5, 0),
    ("hs_crp", "hs_crp", 0.99, 0), ("hs_crp", "hs_crp", 3.0, 0), ("hs_crp", "hs_crp", 3.01, 1),
    ("hs_crp", "hs_crp", 10.0, 1), ("hs_crp", "hs_crp", 10.5, 1),
    ("fasting_glucose", "fasting_glucose", 99.9, 0), ("fasting_glucose", "fasting_glucose", 100, 3),
    ("fasting_glucose", "fasting_glucose", 109.9, 3), ("fasting_glucose", "fasting_glucose", 110, 7),
    ("fasting_glucose", "fasting_glucose", 126, 7),
    ("hba1c", "hba1c", 5.69, 0), ("hba1c", "hba1c", 5.7, 2), ("hba1c", "hba1c", 5.99, 2),
    ("hba1c", "hba1c", 6.0, 6), ("hba1c", "hba1c", 6.5, 6),
    ("smoking", "smoking", "former", 0), ("smoking", "smoking", "current", 0),
    ("family_history", "family_history_diabetes", "second_degree", 0),
    ("family_history", "family_history_diabetes", "first_degree", 4),
])
def test_band_edges(scorer, factor, field, value, points):
    assert points_for(scorer, factor, **{field: value})[0] == points


def test_hba1c_has_no_cliff_inside_prediabetes(scorer):
    # ADA 5.7-5.9% scores (Selvin 2010 HR 1.86) instead of 0 below a 7-point jump at 6.0%
    low, high = points_for(scorer, "hba1c", hba1c=5.8)[0], points_for(scorer, "hba1c", hba1c=6.1)[0]
    assert 0 < low < high


def test_female_only_factors(scorer):
    assert points_for(scorer, "gestational_diabetes", sex="female", gestational_diabetes=True)[0] == 9
    assert points_for(scorer, "pcos", sex="female", pcos=True)[0] == 6
    male = scorer.score({"age": 40, "sex": "male"})["missing"]
    assert "gestational_diabetes" not in {m.get("factor") for m in male}


@pytest.mark.parametrize("points, band", [(0, "low"), (10, "low"), (11, "moderate"), (15, "moderate"),
                                          (16, "high"), (20, "high"), (21, "very_high"), (40, "very_high")])
def test_total_bands(kb, points, band):
    thresholds = kb.ruleset["bands"]["thresholds"]
    assert thresholds[int(Engine(kb).total_band(np.array([points]))[0])]["id"] == band


def test_bands_say_what_they_are_a_band_of(kb):
    for band in kb.ruleset["bands"]["thresholds"]:
        assert "dysglycaemia" in band["label"] and "NHANES" in band["label"]
        assert "implied_relative_risk" not in band


def test_diabetes_range_values_warn(scorer):
    result = scorer.score({"age": 50, "sex": "female", "fasting_glucose": 7.2, "fasting_glucose_unit": "mmol/L",
                           "hs_crp": 12, "hs_crp_unit": "mg/L"})
    messages = " ".join(w["message"] for w in result["warnings"])
    assert "diabetes range" in messages and "acute cause" in messages


def test_exclusive_groups_count_only_the_highest(scorer):
    result = scorer.score({"age": 50, "sex": "male", "bmi": 31, "waist": 104, "fasting_glucose": 104, "hba1c": 6.1})
    by = {c["factor"]: c for c in result["rules"]["contributions"]}
    assert by["age"]["points"] == 7 and by["bmi"]["points"] == 4 and by["waist"]["points"] == 0
    assert by["hba1c"]["points"] == 6 and by["fasting_glucose"]["points"] == 0
    assert by["fasting_glucose"]["band_points"] == 3
    assert result["rules"]["points"] == 7 + 0 + 4 + 6


def test_missing_factors_make_the_total_a_lower_bound(scorer, kb):
    minimal = scorer.score({"age": 50, "sex": "male"})
    rules = minimal["rules"]
    assert rules["points"] == 7 and rules["lower_bound"] is True  # age 50-54
    assert "lower bound" in rules["lower_bound_statement"]
    missing = {m["factor"]: m["max_points"] for m in minimal["missing"] if m["kind"] == "factor"}
    assert missing["bmi"] == 8 and missing["ethnicity"] == 5 and missing["family_history"] == 4
    assert missing["medications"] == sum(c["points"] for c in kb.drug_classes)
    # with every factor but age and sex missing, the maximum is age + sex + what is missing
    assert rules["max_points"] == 15 + 0 + sum(missing.values()) - 6  # glycaemia group overlap (hba1c)


def test_nothing_missing_is_scored_as_normal(scorer):
    result = scorer.score({"age": 50, "sex": "female", "bmi": 22})
    factors = {c["factor"] for c in result["rules"]["contributions"]}
    assert factors == {"age", "sex", "bmi"}
    assert {m["factor"] for m in result["missing"] if m["kind"] == "factor"} >= {"waist", "hs_crp", "smoking"}


def test_medications_scored_per_class_and_unknown_echoed(scorer):
    result = scorer.score({"age": 50, "sex": "male",
                           "medications": ["prednisolone", "H02AB02", "olanzapine", "metformin", "C03AA03", "Wonderpill"]})
    meds = {c["factor"]: c for c in result["rules"]["contributions"] if c["input"] == "medications"}
    assert set(meds) == {"medication:glucocorticoids", "medication:atypical_antipsychotics", "medication:thiazides"}
    assert meds["medication:glucocorticoids"]["points"] == 3
    assert meds["medication:glucocorticoids"]["value"] == ["prednisolone", "H02AB02"]
    assert meds["medication:atypical_antipsychotics"]["points"] == 0
    assert "not scored" in meds["medication:atypical_antipsychotics"]["note"]
    unknown = [w for w in result["warnings"] if w.get("field") == "medications"]
    assert unknown[0]["unrecognised"] == ["Wonderpill"]
    assert unknown[0]["not_scored"] == ["metformin"]      # recognised: a glucose-lowering medicine


@pytest.mark.parametrize("entry", ["Metformin 500mg BD", "A10BA02", "insulin glargine 20 units nocte",
                                   "semaglutide 1 mg weekly", "gliclazide"])
def test_glucose_lowering_medicines_are_recognised_with_a_warning_not_scored(scorer, entry):
    """Metformin and the other A10 drugs usually mean known diabetes (where the score does not apply) or
    treatment of prediabetes or PCOS: named as such, never a risk factor, never 'not in the vocabulary'."""
    base = scorer.score({"age": 50, "sex": "female"})
    result = scorer.score({"age": 50, "sex": "female", "medications": [entry, "Prednisolone 5 mg od"]})
    warning = next(w for w in result["warnings"] if w.get("field") == "medications")
    assert warning["not_scored"] == [entry] and warning["unrecognised"] == []
    assert "glucose-lowering" in warning["message"] and "known_diabetes" in warning["message"]
    assert "PCOS" in warning["message"] or "polycystic" in warning["message"]
    meds = [c["factor"] for c in result["rules"]["contributions"] if c["input"] == "medications"]
    assert meds == ["medication:glucocorticoids"]
    assert result["rules"]["points"] == base["rules"]["points"] + 3
