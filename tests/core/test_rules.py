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


def table_points(kb, factor, value):
    """The points the knowledge gives ``value`` (the committed, generated table)."""
    for band in kb.factor_by_id[factor]["variants"][0]["bands"]:
        if "equals" in band:
            if band["equals"] == value:
                return band["points"]
            continue
        lo, hi = band["lower"], band["upper"]
        above = lo is None or (value >= lo if band["lower_inclusive"] else value > lo)
        below = hi is None or (value <= hi if band["upper_inclusive"] else value < hi)
        if above and below:
            return band["points"]
    raise AssertionError((factor, value))


@pytest.mark.parametrize("age", [18, 25, 40, 64.99, 80, 95])
def test_age_did_not_help_and_scores_nothing(scorer, age):
    assert points_for(scorer, "age", age=age)[0] == 0


@pytest.mark.parametrize("bmi", [17, 19.99, 20, 22.99, 23, 26.99, 27, 30, 32.5, 35, 40, 55])
def test_bmi_ranks_lean_people_too(scorer, kb, bmi):
    # 1 kg/m2 categories from 19 to 45; the same table for both sexes
    assert points_for(scorer, "bmi", bmi=bmi)[0] == table_points(kb, "bmi", bmi)
    assert points_for(scorer, "bmi", sex="female", bmi=bmi)[0] == table_points(kb, "bmi", bmi)


def test_bmi_and_waist_points_rise_with_adiposity(scorer):
    bmi = [points_for(scorer, "bmi", bmi=b)[0] for b in (18, 21, 24, 27, 30, 35, 40)]
    waist = [points_for(scorer, "waist", waist=w)[0] for w in (65, 80, 90, 100, 110, 120, 135)]
    assert bmi == sorted(bmi) and bmi[0] == 0 < bmi[-1]
    assert waist == sorted(waist) and waist[0] == 0 < waist[-1]


@pytest.mark.parametrize("ethnicity", ["europid", "african", "asian", "south_asian", "east_asian", "japanese",
                                       "hispanic", "middle_eastern", "other"])
def test_ethnicity_points_carry_risk_at_the_same_bmi(scorer, kb, ethnicity):
    assert points_for(scorer, "ethnicity", ethnicity=ethnicity)[0] == table_points(kb, "ethnicity", ethnicity)


def test_the_asian_values_share_nhanes_asian_points(scorer):
    pts = {e: points_for(scorer, "ethnicity", ethnicity=e)[0] for e in ("asian", "south_asian", "east_asian", "japanese")}
    assert len(set(pts.values())) == 1 and pts["asian"] > points_for(scorer, "ethnicity", ethnicity="europid")[0]


@pytest.mark.parametrize("hdl", [30, 39.9, 40, 50, 60, 69.9, 70, 95])
def test_hdl_scores_below_and_above_typical(scorer, kb, hdl):
    assert points_for(scorer, "hdl_cholesterol", hdl_cholesterol=hdl)[0] == table_points(kb, "hdl_cholesterol", hdl)


@pytest.mark.parametrize("factor, field, value, points", [
    ("physical_inactivity", "mvpa_minutes_per_week", 0, 0),
    ("physical_inactivity", "mvpa_minutes_per_week", 150, 0),
    ("sedentary_time", "sedentary_hours_per_day", 12, 0),
    ("sleep_duration", "sleep_hours_per_night", 6.0, 0),
    ("sleep_duration", "sleep_hours_per_night", 9.5, 0),
    ("hs_crp", "hs_crp", 0.99, 0), ("hs_crp", "hs_crp", 3.01, 0), ("hs_crp", "hs_crp", 10.5, 0),
    ("fasting_glucose", "fasting_glucose", 99.9, 0), ("fasting_glucose", "fasting_glucose", 100, 0),
    ("fasting_glucose", "fasting_glucose", 126, 0),
    ("smoking", "smoking", "former", 0), ("smoking", "smoking", "current", 0),
    ("family_history", "family_history_diabetes", "second_degree", 0),
    ("family_history", "family_history_diabetes", "first_degree", 0),
])
def test_factors_that_did_not_help_or_define_the_outcome_score_nothing(scorer, factor, field, value, points):
    assert points_for(scorer, factor, **{field: value})[0] == points


@pytest.mark.parametrize("hba1c", [4.5, 5.2, 5.69, 5.7, 5.99, 6.0, 6.4])
def test_hba1c_scores_from_the_fit_without_cliffs(scorer, kb, hba1c):
    assert points_for(scorer, "hba1c", hba1c=hba1c)[0] == table_points(kb, "hba1c", hba1c)


def test_hba1c_points_rise_step_by_step(scorer):
    pts = [points_for(scorer, "hba1c", hba1c=x)[0] for x in (4.6, 5.0, 5.4, 5.8, 6.2)]
    assert pts == sorted(pts) and pts[0] < 0 < pts[-1]


def test_female_only_factors(scorer, kb):
    assert points_for(scorer, "gestational_diabetes", sex="female", gestational_diabetes=True)[0] == 0
    assert points_for(scorer, "pcos", sex="female", pcos=True)[0] == table_points(kb, "pcos", True) > 0
    male = scorer.score({"age": 40, "sex": "male"})["missing"]
    assert "gestational_diabetes" not in {m.get("factor") for m in male}


def test_total_bands(kb):
    thresholds = kb.ruleset["bands"]["thresholds"]
    engine = Engine(kb)
    for k, t in enumerate(thresholds):
        assert thresholds[int(engine.total_band(np.array([t["min_points"]]))[0])]["id"] == t["id"]
        if k:
            assert thresholds[int(engine.total_band(np.array([t["min_points"] - 1]))[0])]["id"] == thresholds[k - 1]["id"]


def test_bands_say_what_they_are_a_band_of(kb):
    for band in kb.ruleset["bands"]["thresholds"]:
        assert "insulin resistance" in band["label"] and "HOMA-IR above 3.51" in band["label"]
        assert "implied_relative_risk" not in band


def test_diabetes_range_values_warn(scorer):
    result = scorer.score({"age": 50, "sex": "female", "fasting_glucose": 7.2, "fasting_glucose_unit": "mmol/L",
                           "hs_crp": 12, "hs_crp_unit": "mg/L"})
    messages = " ".join(w["message"] for w in result["warnings"])
    assert "diabetes range" in messages and "acute cause" in messages


def test_labs_and_adiposity_add_up(scorer, kb):
    result = scorer.score({"age": 50, "sex": "male", "bmi": 31, "waist": 104, "fasting_glucose": 104, "hba1c": 6.1})
    by = {c["factor"]: c for c in result["rules"]["contributions"]}
    assert by["bmi"]["points"] == table_points(kb, "bmi", 31) and by["waist"]["points"] == table_points(kb, "waist", 104)
    assert by["hba1c"]["points"] == table_points(kb, "hba1c", 6.1) and by["fasting_glucose"]["points"] == 0
    assert result["rules"]["points"] == sum(c["points"] for c in by.values())


def test_missing_factors_make_the_total_a_lower_bound(scorer, kb):
    minimal = scorer.score({"age": 50, "sex": "male"})
    rules = minimal["rules"]
    assert rules["points"] == 0 and rules["lower_bound"] is True
    assert "lower bound" in rules["lower_bound_statement"]
    missing = {m["factor"]: m["max_points"] for m in minimal["missing"] if m["kind"] == "factor"}
    tops = {f["id"]: max(b["points"] for b in f["variants"][0]["bands"]) for f in kb.factors if f.get("variants")}
    assert missing["bmi"] == tops["bmi"] and missing["waist"] == tops["waist"] and missing["ethnicity"] == tops["ethnicity"]


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
    # no class has an insulin-sensitivity estimate usable on the outcome's scale: recognised, explained, 0 points
    assert meds["medication:glucocorticoids"]["points"] == 0
    assert "dose" in meds["medication:glucocorticoids"]["note"]
    assert meds["medication:glucocorticoids"]["value"] == ["prednisolone", "H02AB02"]
    assert meds["medication:atypical_antipsychotics"]["points"] == 0
    assert "no points" in meds["medication:atypical_antipsychotics"]["note"]
    unknown = [w for w in result["warnings"] if w.get("field") == "medications"]
    assert unknown[0]["unrecognised"] == ["Wonderpill"]
    assert unknown[0]["not_scored"] == ["metformin"]      # recognised: a glucose-lowering medicine


@pytest.mark.parametrize("entry", ["Metformin 500mg BD", "A10BA02", "insulin glargine 20 units nocte",
                                   "semaglutide 1 mg weekly", "gliclazide"])
def test_glucose_lowering_medicines_are_recognised_with_a_warning_not_scored(scorer, entry):
    """Metformin and the other A10 drugs usually mean known diabetes (where the score does not apply) or
    treatment of prediabetes or PCOS: named as such, never a risk factor, never 'not in the vocabulary'."""
    base = scorer.score({"age": 50, "sex": "female", "medications": ["Prednisolone 5 mg od"]})
    result = scorer.score({"age": 50, "sex": "female", "medications": [entry, "Prednisolone 5 mg od"]})
    warning = next(w for w in result["warnings"] if w.get("field") == "medications")
    assert warning["not_scored"] == [entry] and warning["unrecognised"] == []
    assert "glucose-lowering" in warning["message"] and "known_diabetes" in warning["message"]
    assert "PCOS" in warning["message"] or "polycystic" in warning["message"]
    meds = [c["factor"] for c in result["rules"]["contributions"] if c["input"] == "medications"]
    assert meds == ["medication:glucocorticoids"]
    assert result["rules"] == base["rules"]
