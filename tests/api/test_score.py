import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REQUIRED_KEYS = {"rules", "indices", "established", "mechanisms", "missing", "assumed", "warnings",
                 "references", "disclaimer", "model", "meta"}


def test_acceptance_patient(client, patient):
    r = client.post("/v1/score", json=patient)
    assert r.status_code == 200
    body = r.get_json()
    assert REQUIRED_KEYS <= set(body)
    assert {"points", "max_points", "band", "contributions"} <= set(body["rules"])
    assert body["indices"]["homa_ir"]["value"] == pytest.approx(3.595, abs=5e-4)
    names = {m["id"]: m for m in body["mechanisms"]}
    assert "lipid_accumulation" in names and "chronic_inflammation" in names
    assert {f["factor"] for f in names["chronic_inflammation"]["factors"]} >= {"bmi", "hs_crp"}
    assert {f["factor"] for f in names["lipid_accumulation"]["factors"]} >= {"bmi", "hdl_cholesterol"}
    assert names["lipid_accumulation"]["chain"][-1].startswith("compensatory hyperinsulinaemia")
    assert body["disclaimer"].startswith("For use by qualified health professionals")
    meta = body["meta"]
    assert meta["ruleset_sha256"] and meta["ruleset_version"] and meta["service_version"]
    assert meta["request_id"] == r.headers["X-Request-ID"]
    cited = {ref["id"] for ref in body["references"]}
    for c in body["rules"]["contributions"]:
        assert set(c["references"]) <= cited
    assert r.headers["Cache-Control"] == "no-store"


def test_contribution_shows_given_and_canonical_values(client):
    r = client.post("/v1/score", json={"age": 50, "sex": "female", "fasting_glucose": 6.0,
                                       "fasting_glucose_unit": "mmol/L"})
    c = [c for c in r.get_json()["rules"]["contributions"] if c["factor"] == "fasting_glucose"][0]
    assert c["value"] == 6.0 and c["unit"] == "mmol/L"
    assert c["canonical_value"] == pytest.approx(108.096) and c["canonical_unit"] == "mg/dL"


def test_mechanism_weight_is_the_points_of_the_factors_acting_through_it(client, patient):
    """No equal split: every factor counts in full for each mechanism its sources name."""
    body = client.post("/v1/score", json=patient).get_json()
    total = body["rules"]["points"]
    for m in body["mechanisms"]:
        assert m["weight"] == sum(f["points"] for f in m["factors"])
        assert m["share_of_points"] == pytest.approx(m["weight"] / total, abs=1e-4) and m["share_of_points"] <= 1
        acting = [c for c in body["rules"]["contributions"] if m["id"] in c["mechanisms"]]
        assert [f["factor"] for f in m["factors"]] == [c["factor"] for c in acting]
    weights = [m["weight"] for m in body["mechanisms"]]
    assert weights == sorted(weights, reverse=True)


def test_request_id_is_echoed(client, patient):
    r = client.post("/v1/score", json=patient, headers={"X-Request-ID": "abc-123"})
    assert r.headers["X-Request-ID"] == "abc-123" and r.get_json()["meta"]["request_id"] == "abc-123"
    r = client.post("/v1/score", json=patient, headers={"X-Request-ID": "<script>"})
    assert r.headers["X-Request-ID"] != "<script>"


@pytest.mark.parametrize("kwargs, status", [
    ({"data": "{bad json", "content_type": "application/json"}, 400),
    ({"data": "NaN", "content_type": "application/json"}, 400),
    ({"data": "[" * 100 + "]" * 100, "content_type": "application/json"}, 400),
    ({"data": b"\xff\xfe", "content_type": "application/json"}, 400),
    ({"data": "age=52", "content_type": "application/x-www-form-urlencoded"}, 415),
    ({"data": "{}"}, 415),
    ({"json": []}, 422),
    ({"json": "patient"}, 422),
    ({"json": {}}, 422),
])
def test_errors_are_problem_json(client, kwargs, status):
    r = client.post("/v1/score", **kwargs)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert body["status"] == status and body["title"] and body["instance"] == "/v1/score"


def test_422_lists_every_field_and_known_fields(client):
    r = client.post("/v1/score", json={"age": 200, "sex": "x", "wieght": 80, "bmi": -1, "gender": "m"})
    body = r.get_json()
    assert r.status_code == 422
    assert set(body["errors"]) == {"age", "sex", "wieght", "bmi", "gender"}
    assert "weight" in body["known_fields"]
    assert body["errors"]["wieght"] == ["Unknown field. Did you mean 'weight'?"]
    assert body["errors"]["gender"] == ["Unknown field. Did you mean 'sex'?"]


def test_body_over_limit_is_413():
    from riskservice import create_app
    small = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 200}).test_client()
    r = small.post("/v1/score", json={"age": 50, "sex": "male", "medications": ["x" * 50] * 10})
    assert r.status_code == 413 and r.mimetype == "application/problem+json"


def test_unknown_route_and_wrong_method(client):
    assert client.get("/v2/nothing").status_code == 404
    r = client.get("/v1/score")
    assert r.status_code == 405 and r.mimetype == "application/problem+json"


def test_knowledge_endpoint(client, kb):
    body = client.get("/v1/knowledge").get_json()
    assert body["ruleset_sha256"] == kb.sha256
    assert {f["id"] for f in body["factors"]} >= {"bmi", "waist", "hs_crp"}
    assert len(body["references"]) == len(kb.references)


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=12)
FIELD_NAMES = ["bmi", "waist", "weight", "height", "medications", "smoking", "hs_crp",
               "fasting_glucose", "fasting_glucose_unit", "fasting_insulin", "hba1c", "hba1c_unit", "pcos",
               "family_history_diabetes", "ethnicity", "weight_unit"]
near_valid = st.fixed_dictionaries(
    {"age": st.one_of(st.integers(0, 200), json_values), "sex": st.sampled_from(["male", "female", "x"])},
    optional={name: json_values for name in FIELD_NAMES})


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(json_values, near_valid))
def test_no_500_on_any_json(app, body):
    r = app.test_client().post("/v1/score", data=json.dumps(body), content_type="application/json")
    assert r.status_code in (200, 400, 422), r.get_data(as_text=True)
    if r.status_code != 200:
        assert r.mimetype == "application/problem+json"
