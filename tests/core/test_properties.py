"""Properties of the rules score: monotone in the risk direction, deterministic."""
from hypothesis import given, settings
from hypothesis import strategies as st

base_patient = st.fixed_dictionaries({
    "age": st.integers(18, 90),
    "sex": st.sampled_from(["female", "male"]),
    "hs_crp_unit": st.just("mg/L"),          # a unitless hs-CRP is plausible in mg/L and mg/dL: an error
}, optional={
    "ethnicity": st.sampled_from(["europid", "south_asian", "east_asian", "japanese", "african", "hispanic"]),
    "bmi": st.floats(15, 60),
    "waist": st.floats(50, 160),
    "hs_crp": st.floats(0, 50),
    "il6": st.floats(0, 100),
    "sedentary_hours_per_day": st.floats(0, 20),
    "mvpa_minutes_per_week": st.floats(0, 1000),
    "smoking": st.sampled_from(["never", "former", "current"]),
    "family_history_diabetes": st.sampled_from(["none", "second_degree", "first_degree"]),
    "fasting_glucose": st.floats(60, 200),
    "hba1c": st.floats(4, 9),
})


def points(scorer, p):
    return scorer.score(p)["rules"]["points"]


@settings(max_examples=150, deadline=None)
@given(p=base_patient, field=st.sampled_from(["bmi", "waist", "hs_crp", "il6", "sedentary_hours_per_day",
                                             "fasting_glucose", "hba1c"]),
       a=st.floats(0, 1), b=st.floats(0, 1))
def test_raising_a_risk_marker_never_lowers_points(scorer, p, field, a, b):
    lo_hi = {"bmi": (15, 60), "waist": (50, 160), "hs_crp": (0, 50), "il6": (0, 100),
             "sedentary_hours_per_day": (0, 20), "fasting_glucose": (60, 200), "hba1c": (4, 9)}[field]
    low, high = sorted((a, b))
    span = lo_hi[1] - lo_hi[0]
    assert points(scorer, {**p, field: lo_hi[0] + low * span}) <= points(scorer, {**p, field: lo_hi[0] + high * span})


@settings(max_examples=100, deadline=None)
@given(p=base_patient, a=st.floats(0, 2000), b=st.floats(0, 2000))
def test_more_activity_never_raises_points(scorer, p, a, b):
    low, high = sorted((a, b))
    assert points(scorer, {**p, "mvpa_minutes_per_week": high}) <= points(scorer, {**p, "mvpa_minutes_per_week": low})


@settings(max_examples=60, deadline=None)
@given(p=base_patient)
def test_scoring_is_deterministic(scorer, p):
    assert scorer.score(dict(p)) == scorer.score(dict(p))


@settings(max_examples=80, deadline=None)
@given(p=base_patient)
def test_points_never_exceed_max_and_lower_bound_is_honest(scorer, p):
    rules = scorer.score(p)["rules"]
    lowest = scorer.knowledge.ruleset["bands"]["thresholds"][0]["min_points"]     # labs can score below 0
    assert lowest <= rules["points"] <= rules["max_points"]
    if rules["lower_bound"]:
        assert "lower bound" in rules["lower_bound_statement"]
