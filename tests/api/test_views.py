"""?view=summary|standard|full on POST /v1/score and --view on the CLI (issue 13 section 1)."""
import copy
import json

import jsonschema
import pytest

from riskservice import create_app
from riskservice.cli import main
from riskservice.core import narrative
from riskservice.core.render import answer, contributions, sections
from tests.paths import REPO

SCHEMAS = REPO / "schemas"
OTHER_PATIENTS = [
    {"age": 45, "sex": "female"},
    {"age": 67, "sex": "female", "ethnicity": "south_asian", "waist": 92, "height": 158, "weight": 70,
     "hba1c": 6.1, "hba1c_unit": "%", "triglycerides": 2.1, "triglycerides_unit": "mmol/L",
     "hdl_cholesterol": 1.0, "hdl_cholesterol_unit": "mmol/L", "smoking": "current"},
    {"age": 30, "sex": "male", "bmi": 22, "fasting_glucose": 5.0, "fasting_glucose_unit": "mmol/L",
     "fasting_insulin": 4, "medications": ["metformin", "not-a-drug"]},
]


def published(name):
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


def openapi_component(name):
    doc = json.loads((SCHEMAS / "openapi.json").read_text())
    schema = dict(doc["components"]["schemas"][name])
    schema["components"] = doc["components"]   # resolve #/components/... refs
    return jsonschema.Draft202012Validator(schema)


def test_summary_is_small_and_agrees_with_the_full_answer(client, patient):
    r = client.post("/v1/score?view=summary", json=patient)
    assert r.status_code == 200
    assert len(r.data) <= 2048, len(r.data)
    s = r.get_json()
    published("response-summary.schema.json").validate(s)
    full = client.post("/v1/score", json=patient).get_json()
    assert s["view"] == "summary"
    assert (s["points"], s["max_points"], s["band"]) == (full["rules"]["points"], full["rules"]["max_points"],
                                                         full["rules"]["band"])
    assert s["lower_bound"] == full["rules"]["lower_bound"]
    assert s["band_if_missing_were_maximal"] == full["rules"]["band_if_missing_were_maximal"]
    assert s["leads"] == full["leads"] == "measured_homa_ir"
    assert s["measured_homa_ir"]["value"] == full["measured"]["homa_ir"]["value"]
    assert s["measured_homa_ir"]["status"] == full["measured"]["homa_ir"]["status"] == "borderline"
    assert s["probability"]["value"] is full["model"]["probability"] is None     # measured: withheld
    assert s["probability"]["withheld"] == full["model"]["withheld"]
    assert s["probability"]["outcome"].startswith("HOMA-IR above 3.51")
    assert s["dysglycaemia_probability"]["value"] is full["dysglycaemia"]["probability"] is None  # glucose 104
    assert s["dysglycaemia_probability"]["withheld"] == full["dysglycaemia"]["withheld"]
    assert s["flagged_indices"] == {k: v["value"] for k, v in full["indices"].items() if v["flagged"]}
    assert s["flagged_indices"]["homa_ir"] == pytest.approx(3.595, abs=5e-4)
    assert [(m["id"], m["name"], m["weight"]) for m in s["mechanisms"]] == \
        [(m["id"], m["name"], m["weight"]) for m in full["mechanisms"][:3]]
    expected_missing = [m["input"] for m in full["missing"] if m["kind"] == "factor"]
    expected_missing += [n for m in full["missing"] if m["kind"] == "index" for n in m["needs"]]
    assert s["missing_inputs"] == list(dict.fromkeys(expected_missing))
    assert s["disclaimer"] == full["disclaimer"]
    meta = {k: v for k, v in full["meta"].items() if not k.startswith("review_")}
    assert s["meta"] == {**meta, "request_id": r.headers["X-Request-ID"]}
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("raw", OTHER_PATIENTS)
def test_summary_agrees_for_other_patients(client, raw):
    s = client.post("/v1/score?view=summary&audience=patient", json=raw).get_json()
    full = client.post("/v1/score?audience=patient", json=raw).get_json()
    published("response-summary.schema.json").validate(s)
    assert (s["points"], s["band"]) == (full["rules"]["points"], full["rules"]["band"])
    assert s["flagged_indices"] == {k: v["value"] for k, v in full["indices"].items() if v["flagged"]}
    assert [m["id"] for m in s["mechanisms"]] == [m["id"] for m in full["mechanisms"][:3]]
    index_ids = {m["index"] for m in full["missing"] if m["kind"] == "index"} | set(full["indices"])
    factor_missing = [m["input"] for m in full["missing"] if m["kind"] == "factor" and m["input"] not in index_ids]
    assert s["missing_inputs"][:len(factor_missing)] == factor_missing
    assert s["probability"]["value"] == full["model"]["probability"]
    assert s["dysglycaemia_probability"]["value"] == full["dysglycaemia"]["probability"]
    assert s["leads"] == full["leads"]


def test_summary_builds_no_narrative_and_no_references(monkeypatch, client, patient):
    def boom(*args, **kwargs):
        raise AssertionError("the summary must not build this")
    for target, name in ((narrative, "build"), (answer, "_references"), (contributions, "rules_of"),
                         (sections, "mechanisms_of"), (sections, "model_of")):
        monkeypatch.setattr(target, name, boom)
    assert client.post("/v1/score?view=summary", json=patient).status_code == 200


def test_full_path_uses_what_the_summary_skips(monkeypatch, full_scorer, patient):
    """Guard for the test above: the patched functions really are on the full path."""
    monkeypatch.setattr(narrative, "build", lambda *a, **k: (_ for _ in ()).throw(AssertionError("built")))
    with pytest.raises(AssertionError, match="built"):
        full_scorer.score(patient)


@pytest.mark.parametrize("raw", [*OTHER_PATIENTS, "acceptance"])
@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_standard_is_full_without_narrative_and_references(full_scorer, patient, raw, audience):
    raw = patient if raw == "acceptance" else copy.deepcopy(raw)
    full = full_scorer.score(raw, request_id="r1", audience=audience)
    standard = full_scorer.score(raw, request_id="r1", audience=audience, view="standard")
    assert standard == {k: v for k, v in full.items() if k not in ("explanation", "references")}


def test_standard_over_http_validates(client, patient):
    r = client.post("/v1/score?view=standard", json=patient)
    assert r.status_code == 200 and "explanation" not in r.get_json()
    openapi_component("ScoreStandardOut").validate(r.get_json())
    assert len(r.data) < len(client.post("/v1/score?view=full", json=patient).data)


def test_default_view_is_full(client, patient):
    default = client.post("/v1/score", json=patient, headers={"X-Request-ID": "same"}).get_json()
    full = client.post("/v1/score?view=full", json=patient, headers={"X-Request-ID": "same"}).get_json()
    assert default == full and "explanation" in default and "references" in default


def test_unknown_view_is_422_problem(client, patient):
    r = client.post("/v1/score?view=tiny", json=patient)
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    body = r.get_json()
    assert list(body["errors"]) == ["view"] and "summary" in body["errors"]["view"][0]
    published("error.schema.json").validate(body)


def test_summary_respects_the_strict_switch(patient):
    app = create_app({"TESTING": True, "MODEL": "off", "REQUIRE_APPROVED": True})
    r = app.test_client().post("/v1/score?view=summary", json=patient)
    assert r.status_code == 503 and r.get_json()["unapproved_entries"]["drug_class:glucocorticoids"] == "draft"


def test_summary_without_model_has_null_probability(patient):
    app = create_app({"TESTING": True, "MODEL": "off"})
    body = app.test_client().post("/v1/score?view=summary", json=patient).get_json()
    assert body["probability"]["value"] is None and "measured" in body["probability"]["withheld"]
    published("response-summary.schema.json").validate(body)
    body = app.test_client().post("/v1/score?view=summary", json={"age": 52, "sex": "male", "bmi": 31}).get_json()
    assert body["probability"]["value"] is None and "switched off" in body["probability"]["withheld"]
    assert body["dysglycaemia_probability"]["value"] is None and body["points"] > 0
    published("response-summary.schema.json").validate(body)


def test_openapi_documents_the_view_parameter(client):
    doc = client.get("/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/v1/score"]["post"]["parameters"]}
    assert params["view"]["schema"]["enum"] == ["summary", "standard", "full"]
    assert params["view"]["schema"]["default"] == "full"


def test_cli_view_option(runner, patient):
    out = runner.invoke(main, ["score", "--view", "summary", "-"], input=json.dumps({"age": 52, "sex": "male"}))
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["view"] == "summary" and body["dysglycaemia_probability"]["value"] > 0
    bad = runner.invoke(main, ["score", "--view", "tiny", "-"], input=json.dumps(patient))
    assert bad.exit_code == 2


def test_narrative_states_both_probabilities_with_their_outcomes(two_model_scorer):
    raw = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104}
    full = two_model_scorer.score(raw)
    p, d = f"{full['model']['probability']:.0%}", f"{full['dysglycaemia']['probability']:.0%}"
    assert f"**Model probability:** {p}" in full["explanation"]
    assert f"**Dysglycaemia model:** {d}" in full["explanation"]
    assert full["model"]["outcome"] in full["explanation"] and full["dysglycaemia"]["outcome"] in full["explanation"]
    patient = two_model_scorer.score(raw, audience="patient")["explanation"]
    assert f"chance of insulin resistance at {p}" in patient and d in patient
