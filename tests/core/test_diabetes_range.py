"""Issue 11 section 3: a value in the diabetes range leads every surface, never reads
"prediabetes", and known diabetes or pregnancy make the score not apply (and say why)."""
import csv
import io
import random

import pytest

from tests.ehr.helpers import hook_request, load_bundle, prefetch_for

DIABETIC = {"age": 55, "sex": "female", "bmi": 31, "fasting_glucose": 220, "hba1c": 9.5}


def texts(body):
    out = [body["explanation"]] + [w["message"] for w in body["warnings"]]
    out += [c["text"] + " " + c["band_label"] for c in (body["rules"] or {}).get("contributions", [])]
    out += [m["text"] for m in body["mechanisms"]]
    return out


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_diabetes_range_leads_the_answer(client, audience):
    body = client.post(f"/v1/score?audience={audience}", json=DIABETIC).get_json()
    assert body["diabetes_range"] is True and body["applicable"] is True
    assert body["warnings"][0]["code"] == "diabetes_range"
    assert "48 mmol/mol" in body["warnings"][0]["message"] and "126 mg/dL" in body["warnings"][0]["message"]
    assert body["explanation"].startswith("**Diabetes range.**")
    assert not any("prediabetes" in t.lower() for t in texts(body))


@pytest.mark.parametrize("value, unit", [(7.0, "mmol/L"), (126, "mg/dL")])
def test_the_threshold_holds_in_either_unit(client, value, unit):
    body = client.post("/v1/score", json={"age": 50, "sex": "male", "fasting_glucose": value,
                                          "fasting_glucose_unit": unit}).get_json()
    assert body["diabetes_range"] is True
    below = client.post("/v1/score", json={"age": 50, "sex": "male", "fasting_glucose": value * 0.99,
                                           "fasting_glucose_unit": unit}).get_json()
    assert below["diabetes_range"] is False


def test_no_patient_in_the_diabetes_range_reads_prediabetes(scorer):
    rng = random.Random(5)
    seen = 0
    for _ in range(300):
        p = {"age": rng.randint(20, 85), "sex": rng.choice(["female", "male"]), "bmi": rng.uniform(18, 42)}
        if rng.random() < 0.6:
            p["fasting_glucose"] = rng.uniform(70, 300)
        if rng.random() < 0.6:
            p["hba1c"], p["hba1c_unit"] = rng.choice([(rng.uniform(4.5, 12), "%"), (rng.uniform(30, 100), "mmol/mol")])
        for audience in ("clinician", "patient"):
            body = scorer.score(p, audience=audience)
            if body["diabetes_range"]:
                seen += 1
                assert not any("prediabetes" in t.lower() for t in texts(body)), p
    assert seen > 100


def test_csv_rows_carry_the_flag_and_the_warning_first(client):
    data = ("id,age,sex,fasting_glucose,fasting_glucose_unit,known_diabetes,pregnant\n"
            "a,55,female,7.2,mmol/L,,\nb,55,female,5.0,mmol/L,,\nc,60,male,,,true,\nd,30,female,,,,yes\n")
    rows = list(csv.DictReader(io.StringIO(client.post("/v1/score/batch", data=data, content_type="text/csv")
                                           .get_data(as_text=True))))
    assert rows[0]["diabetes_range"] == "true" and rows[0]["warnings"].startswith("diabetes_range:")
    assert rows[1]["diabetes_range"] == "false"
    for row, word in ((rows[2], "known diabetes"), (rows[3], "pregnant")):
        assert word in row["not_applicable"] and row["points"] == "" and row["band"] == "" and row["error"] == ""


@pytest.mark.parametrize("field", ["known_diabetes", "pregnant"])
def test_score_does_not_apply_and_says_why(client, field):
    body = client.post("/v1/score", json={"age": 30, "sex": "female", "bmi": 33, field: True}).get_json()
    assert body["applicable"] is False and body["rules"] is None and body["model"] is None
    assert body["not_applicable"][0]["field"] == field and body["warnings"][0]["code"] == "not_applicable"
    assert "does not apply" in body["explanation"]


def test_pregnant_man_is_refused(client):
    r = client.post("/v1/score", json={"age": 30, "sex": "male", "pregnant": True})
    assert r.status_code == 422 and "pregnant" in r.get_json()["errors"]


def test_fhir_risk_assessment_warns_first(client):
    bundle = load_bundle("complete")
    for e in bundle["entry"]:
        if e["resource"]["id"] == "c-glu":
            e["resource"]["valueQuantity"]["value"] = 220
    ra = client.post("/v1/fhir/score?as_of=2026-11-20", json=bundle).get_json()
    assert ra["note"][1]["text"].startswith("WARNING: A value meets a diagnostic threshold for diabetes")


def test_cds_card_is_critical_and_first(client):
    prefetch = prefetch_for("complete")
    for entry in prefetch.values():
        for e in (entry or {}).get("entry", []) if isinstance(entry, dict) else []:
            if e.get("resource", {}).get("id") == "c-glu":
                e["resource"]["valueQuantity"]["value"] = 220
    cards = client.post("/cds-services/ir-risk", json=hook_request("complete", prefetch=prefetch)).get_json()["cards"]
    assert cards[0]["indicator"] == "critical" and "diabetes range" in cards[0]["summary"]
