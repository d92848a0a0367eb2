"""Issue 20: a valid measured HOMA-IR leads, no probability of an outcome already measured or
established by the inputs, and the content errors of section 5 (each with its test)."""
from __future__ import annotations

import pytest

from riskservice.core.render.outcome import MODELS_OFF
from riskservice.rows.batch import BatchScorer

VALID = {"age": 45, "sex": "female", "bmi": 24, "fasting": True, "fasting_glucose": 95, "fasting_glucose_unit": "mg/dL",
         "fasting_insulin": 22, "fasting_insulin_unit": "uU/mL"}
NO_LABS = {"age": 52, "sex": "male", "bmi": 31.2, "waist": 104}


def rows(scorer, records, audience="clinician"):
    """The batch path's rows (NDJSON / CSV columns) for these records."""
    return BatchScorer(scorer.knowledge, scorer.model, audience=audience).score_records(records)


def test_a_valid_measurement_leads_and_its_probability_is_withheld(two_model_scorer, kb):
    full = two_model_scorer.score(VALID)
    m = full["measured"]
    assert full["leads"] == "measured_homa_ir" and m["leads"] and m["homa_ir"]["valid"]
    assert m["homa_ir"]["value"] == pytest.approx(22 * 95 / 405) and m["homa_ir"]["status"] == "above"
    assert m["homa_ir"]["cutoff_text"] == kb.ruleset["outcome"]["text"]
    assert full["model"]["probability"] is None and full["model"]["withheld"] == kb.ruleset["measured"]["withheld_probability"]
    assert "logit" not in full["model"] and "contributions" not in full["model"]   # nothing to back out a probability
    # the estimate is context: low band against a measurement above the zone -> one sentence says so
    assert full["rules"]["band"] in ("low", "moderate") and m["agreement"] == "disagree"
    assert m["statement"] == kb.ruleset["measured"]["agreement"]["above"]["disagree_text"]
    assert full["explanation"].startswith("**Measured HOMA-IR** 5.16: above the borderline zone (2.69-4.58)")
    assert full["explanation"].index("**What the risk factors predict:**") > full["explanation"].index(m["statement"])
    patient = two_model_scorer.score(VALID, audience="patient")["explanation"]
    assert patient.startswith("**Your blood test:** your HOMA-IR is 5.16.") and "chance of insulin resistance" not in patient
    summary = two_model_scorer.score(VALID, view="summary")
    assert summary["leads"] == "measured_homa_ir" and summary["measured_homa_ir"]["status"] == "above"
    assert summary["probability"]["value"] is None and summary["probability"]["withheld"]
    (row,) = rows(two_model_scorer, [VALID])
    assert (row["leads"], row["homa_ir_status"], row["probability"]) == ("measured_homa_ir", "above", None)
    assert row["measured_homa_ir"] == pytest.approx(m["homa_ir"]["value"])


@pytest.mark.parametrize("insulin, status", [(15, "borderline"), (11.5, "borderline"), (11.4, "below"), (19.6, "above")])
def test_status_against_the_borderline_zone(scorer, insulin, status):
    # glucose 95: HOMA-IR = insulin x 0.2346; the zone is 2.69-4.58
    measured = scorer.score(dict(VALID, fasting_insulin=insulin), view="standard")["measured"]
    assert measured["homa_ir"]["status"] == status
    assert measured["agreement"] is None if status == "borderline" else measured["agreement"] in ("agree", "disagree")


def test_measured_below_with_a_high_band_says_they_disagree(scorer, kb):
    raw = {"age": 60, "sex": "male", "bmi": 38, "waist": 125, "hypertension": True, "hdl_cholesterol": 30,
           "hdl_cholesterol_unit": "mg/dL", "triglycerides": 300, "triglycerides_unit": "mg/dL", "fasting": True,
           "fasting_glucose": 90, "fasting_glucose_unit": "mg/dL", "fasting_insulin": 5, "fasting_insulin_unit": "uU/mL"}
    full = scorer.score(raw)
    assert full["rules"]["band"] in ("high", "very_high") and full["measured"]["homa_ir"]["status"] == "below"
    assert full["measured"]["statement"] == kb.ruleset["measured"]["agreement"]["below"]["disagree_text"]


@pytest.mark.parametrize("change, reasons", [
    ({"fasting": False}, ["not_fasting"]),
    ({"fasting_glucose": 130}, ["diabetes_range"]),
    ({"medications": ["insulin glargine 20 units"]}, ["glucose_lowering"]),
    ({"medications": ["gliclazide 80 mg"]}, ["glucose_lowering"]),
    ({"medications": ["A10BX02"]}, ["glucose_lowering"]),        # repaglinide by ATC code
    ({"fasting": False, "medications": ["glimepiride"]}, ["not_fasting", "glucose_lowering"]),
])
def test_an_invalid_measurement_does_not_lead_and_says_why(two_model_scorer, change, reasons):
    full = two_model_scorer.score(dict(VALID, **change))
    h = full["measured"]["homa_ir"]
    assert full["leads"] == "risk_factor_estimate" and not full["measured"]["leads"] and not h["valid"]
    assert [r["code"] for r in h["invalid_reasons"]] == reasons
    assert [w for w in full["warnings"] if w.get("code") == "homa_ir_not_valid"]
    assert full["explanation"].startswith(("**Rules score:**", "**Diabetes range.**"))
    assert "not valid as a measurement of the outcome" in full["explanation"]
    if "diabetes_range" not in reasons:
        assert 0 < full["model"]["probability"] < 1        # the estimate leads, with its probability
    (row,) = rows(two_model_scorer, [dict(VALID, **change)])
    assert (row["leads"], row["homa_ir_status"], row["measured_homa_ir"]) == ("risk_factor_estimate", "not_valid", None)


def test_glucose_lowering_classes_are_recognised_but_add_no_points(kb):
    for entry, cls in (("Lantus insulin glargine", "insulin"), ("A10AE04", "insulin"), ("glipizide", "sulfonylureas"),
                       ("A10BB09", "sulfonylureas"), ("nateglinide", "meglitinides"), ("A10BX03", "meglitinides")):
        m = kb.match_medication(entry)
        assert m.class_id == cls and not m.insulin_resistance and kb.drug_by_id[cls]["points"] == 0, entry
    assert set(kb.ruleset["measured"]["glucose_lowering_classes"]) == {"insulin", "sulfonylureas", "meglitinides"}


def test_both_probabilities_with_their_outcomes_and_none_when_models_off(two_model_scorer, scorer, kb):
    full = two_model_scorer.score(NO_LABS, view="standard")
    assert full["leads"] == "risk_factor_estimate" and full["measured"] is None
    assert 0 < full["model"]["probability"] < 1 and full["model"]["outcome"] == kb.ruleset["outcome"]["text"]
    assert 0 < full["dysglycaemia"]["probability"] < 1 and full["dysglycaemia"]["withheld"] is None
    assert full["rules"]["outcome"] == full["outcome"]["text"] == kb.ruleset["outcome"]["text"]
    off = scorer.score(NO_LABS, view="summary")
    assert off["probability"] == {"value": None, "outcome": kb.ruleset["outcome"]["short_text"], "withheld": MODELS_OFF}


# ---- section 5, content errors --------------------------------------------------------------------------------

def test_error_1_no_probability_of_dysglycaemia_the_inputs_establish(full_scorer, kb):
    raw = {"age": 50, "sex": "male", "bmi": 27, "hba1c": 6.3, "fasting_glucose": 118}
    full = full_scorer.score(raw)
    assert full["dysglycaemia"]["probability"] is None
    assert full["dysglycaemia"]["withheld"] == kb.ruleset["dysglycaemia"]["withheld"]["established"]
    assert "**Dysglycaemia model:** not shown" in full["explanation"] and "%" not in full["explanation"].split(
        "**Dysglycaemia model:**")[1].split("\n")[0].replace(">= 5.7%", "")
    assert full_scorer.score(raw, view="summary")["dysglycaemia_probability"]["value"] is None
    assert rows(full_scorer, [raw])[0]["dysglycaemia_probability"] is None
    for just_below in ({"hba1c": 5.6}, {"hba1c": 38, "hba1c_unit": "mmol/mol"}, {"fasting_glucose": 99},
                       {"fasting_glucose": 5.5, "fasting_glucose_unit": "mmol/L"}):
        assert full_scorer.score(dict(NO_LABS, **just_below), view="summary")["dysglycaemia_probability"]["value"]
    for at_threshold in ({"hba1c": 39, "hba1c_unit": "mmol/mol"}, {"fasting_glucose": 5.6, "fasting_glucose_unit": "mmol/L"}):
        assert full_scorer.score(dict(NO_LABS, **at_threshold), view="summary")["dysglycaemia_probability"]["withheld"]


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_error_2_the_diabetes_range_leads_when_the_score_does_not_apply(full_scorer, kb, audience):
    raw = {"age": 30, "sex": "female", "pregnant": True, "fasting_glucose": 130}
    full = full_scorer.score(raw, audience=audience)
    assert not full["applicable"] and full["diabetes_range"]
    assert full["warnings"][0]["code"] == "diabetes_range" and full["warnings"][1]["code"] == "not_applicable"
    assert full["explanation"].startswith("**Diabetes range.** " + kb.ruleset["diabetes_range"][f"{audience}_text"])
    summary = full_scorer.score(raw, audience=audience, view="summary")
    assert list(summary)[:4] == ["view", "applicable", "diabetes_range", "warnings"]
    assert summary["warnings"][0]["code"] == "diabetes_range"
    (row,) = rows(full_scorer, [raw], audience)
    assert row["warnings"].startswith("diabetes_range: ") and row["not_applicable"]


def test_error_3_two_tests_in_the_diabetes_range_confirm_without_a_repeat(scorer, kb):
    both = scorer.score({"age": 50, "sex": "male", "hba1c": 6.8, "fasting_glucose": 140})
    warning = both["warnings"][0]
    assert warning["confirmed"] and warning["message"] == kb.ruleset["diabetes_range"]["confirmed"]["message"]
    for text in (warning["message"], both["explanation"], scorer.score(
            {"age": 50, "sex": "male", "hba1c": 6.8, "fasting_glucose": 140}, audience="patient")["explanation"]):
        assert "repeat" not in text.replace("without a repeat", "") and "checked again" not in text
    one = scorer.score({"age": 50, "sex": "male", "fasting_glucose": 140})["warnings"][0]
    assert not one["confirmed"] and "repeating the test" in one["message"]
    (row,) = rows(scorer, [{"age": 50, "sex": "male", "hba1c": 6.8, "fasting_glucose": 140}])
    assert row["warnings"].startswith("diabetes_range: " + kb.ruleset["diabetes_range"]["confirmed"]["message"])


def test_error_5_factor_texts_read_their_numbers_from_the_knowledge(kb, knowledge_copy):
    import json

    from riskservice.core.errors import KnowledgeError
    from riskservice.core.knowledge import load_knowledge
    assert "2.87" not in kb.factor_by_id["pcos"]["clinician_text"]     # the unadjusted OR its points never used
    path = knowledge_copy / "factors.json"
    doc = json.loads(path.read_text())
    pcos = next(f for f in doc["factors"] if f["id"] == "pcos")
    scored = next(b for b in pcos["variants"][0]["bands"] if b.get("effect"))
    pcos["clinician_text"] = f"PCOS: {{effect:{scored['id']}}}, {{points:{scored['id']}}} points."
    path.write_text(json.dumps(doc))
    text = load_knowledge(knowledge_copy).factor_by_id["pcos"]["clinician_text"]
    assert text == f"PCOS: {scored['effect']['measure']} {scored['effect']['estimate']:g}, {scored['points']} points."
    pcos["clinician_text"] = "PCOS: {effect:nope}."
    path.write_text(json.dumps(doc))
    with pytest.raises(KnowledgeError, match="names no band"):
        load_knowledge(knowledge_copy)


def test_error_6_not_applicable_texts_for_each_audience(full_scorer, kb):
    texts = kb.ruleset["diabetes_range"]
    assert "risk of developing" not in texts["not_applicable"]["known_diabetes"]
    raw = {"age": 50, "sex": "female", "known_diabetes": True}
    for audience, key in (("clinician", "not_applicable"), ("patient", "not_applicable_patient")):
        want = texts[key]["known_diabetes"]
        assert full_scorer.score(raw, audience=audience)["not_applicable"][0]["reason"] == want
        assert full_scorer.score(raw, audience=audience, view="summary")["not_applicable"][0]["reason"] == want
        assert rows(full_scorer, [raw], audience)[0]["not_applicable"] == want
    summary = full_scorer.score(raw, view="summary")
    assert summary["dysglycaemia_probability"]["withheld"] == kb.ruleset["dysglycaemia"]["withheld"]["known_diabetes"]


def test_error_8_every_cited_reference_exists(kb):
    assert "caleyachetty2021" in kb.references and kb.references["caleyachetty2021"]["doi"] == "10.1016/S2213-8587(21)00088-7"


def test_a_valid_measurement_names_the_assay_its_cut_off_belongs_to(scorer, kb):
    """Hazard H24: the cut-off comes from NHANES's insulin assay; the clinician text says it does not transfer."""
    patient = {"age": 50, "sex": "female", "fasting_glucose": 95, "fasting_glucose_unit": "mg/dL",
               "fasting_insulin": 20, "fasting_insulin_unit": "uU/mL"}
    measured = scorer.score(patient)["measured"]["homa_ir"]
    assert measured["valid"] and kb.ruleset["outcome"]["assay_note"] in measured["text"]
    assert "Tosoh" in kb.ruleset["outcome"]["assay_note"]
