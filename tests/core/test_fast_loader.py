"""The fast loader returns what marshmallow returns, or defers to it (None)."""
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from riskservice.core.schema import build_fast_loader, build_patient_schema

values = st.one_of(st.none(), st.booleans(), st.integers(-300, 300), st.floats(allow_nan=True),
                   st.sampled_from(["male", "female", "mg/dL", "mmol/L", "pmol/L", "current", "x", "", "first_degree"]),
                   st.lists(st.text(max_size=5), max_size=3))
keys = st.sampled_from(["age", "sex", "bmi", "waist", "smoking", "medications", "pcos", "fasting_glucose",
                        "fasting_glucose_unit", "fasting_insulin_unit", "hypertension", "family_history_diabetes",
                        "ethnicity", "colour"])
payloads = st.one_of(
    st.dictionaries(keys, values, max_size=8),
    st.fixed_dictionaries({"age": st.integers(18, 90), "sex": st.sampled_from(["male", "female"])},
                          optional={"bmi": st.floats(15, 50), "fasting_glucose": st.integers(60, 200),
                                    "fasting_glucose_unit": st.sampled_from(["mg/dL", "mmol/L"]),
                                    "medications": st.lists(st.sampled_from(["prednisolone", "C03AA03"]), max_size=3),
                                    "pcos": st.booleans(), "smoking": st.sampled_from(["never", "current"]),
                                    "waist": st.none()}),
)


@settings(max_examples=400, deadline=None)
@given(raw=payloads)
def test_fast_loader_agrees_with_marshmallow(kb, raw):
    fast = build_fast_loader(kb)(raw)
    try:
        slow = build_patient_schema(kb)().load(raw)
    except ValidationError:
        assert fast is None
        return
    assert fast is None or fast == slow


def test_fast_loader_takes_the_common_request(kb, patient):
    assert build_fast_loader(kb)(patient) == build_patient_schema(kb)().load(patient)
