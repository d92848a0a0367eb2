"""Issue 7 acceptance in the core: same numbers for both audiences, readable patient texts,
and an explanation whose every [n] resolves to the response's references."""
import re

import pytest

from riskservice.core.errors import ValidationProblem
from riskservice.core.readability import fk_grade
from tests.conftest import ACCEPTANCE_PATIENT

CITE = re.compile(r"\[(\d+(?:, \d+)*)\]")


def numbers(result):
    """Everything numeric in a result: what must not depend on the audience."""
    rules = result["rules"]
    return {
        "points": rules["points"], "max_points": rules["max_points"], "band": rules["band"],
        "contributions": [(c["factor"], c["band"], c["points"], c["canonical_value"]) for c in rules["contributions"]],
        "indices": {k: (v["value"], v["flagged"]) for k, v in result["indices"].items()},
        "established": {k: (v["points"], v["category"]) for k, v in result["established"].items()},
        "mechanisms": [(m["id"], m["weight"]) for m in result["mechanisms"]],
        "model": result["model"], "missing": result["missing"],
    }


def cited_numbers(text):
    return [int(n) for group in CITE.findall(text) for n in group.split(", ")]


@pytest.fixture(scope="module")
def both(scorer):
    return {a: scorer.score(dict(ACCEPTANCE_PATIENT), audience=a) for a in ("clinician", "patient")}


def test_same_numbers_for_both_audiences(both):
    assert numbers(both["patient"]) == numbers(both["clinician"])
    assert both["patient"]["meta"]["audience"] == "patient"
    assert both["clinician"]["meta"]["audience"] == "clinician"


def test_texts_differ_and_come_from_the_knowledge_files(both, kb):
    for c in both["patient"]["rules"]["contributions"]:
        factor = "medications" if c["factor"].startswith("medication:") else c["factor"]
        assert c["text"] == kb.factor_by_id[factor]["patient_text"]
    for m in both["clinician"]["mechanisms"]:
        assert m["text"] == kb.mechanisms[m["id"]]["clinician_text"]
    assert both["patient"]["explanation"] != both["clinician"]["explanation"]


def test_patient_texts_and_narrative_are_readable(both):
    body = both["patient"]
    texts = [c["text"] for c in body["rules"]["contributions"]] + [m["text"] for m in body["mechanisms"]]
    assert all(fk_grade(t) <= 9 for t in texts)
    assert fk_grade(body["explanation"]) <= 9, fk_grade(body["explanation"])
    assert "clinician" in body["explanation"]


def test_clinician_narrative_names_the_molecular_chain(both):
    text = both["clinician"]["explanation"]
    assert "DAG -> PKC-theta -> IRS-1 serine" in text and "GLUT4" in text
    assert "hyperinsulinaemia" in text and "type 2 diabetes" in text
    assert "cancer" in text and "still under study" in text


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_every_citation_resolves_in_order_of_first_use(both, audience):
    body = both[audience]
    refs = body["references"]
    assert [r["number"] for r in refs] == list(range(1, len(refs) + 1))
    used = cited_numbers(body["explanation"])
    assert used and all(1 <= n <= len(refs) for n in used)
    first_use = list(dict.fromkeys(used))
    assert first_use == list(range(1, len(first_use) + 1)), "numbered in order of first use"
    in_text = [r for r in refs if r["in_explanation"]]
    assert [r["number"] for r in in_text] == first_use


@pytest.mark.parametrize("audience", ["clinician", "patient"])
def test_only_cited_references_appear(both, audience):
    body = both[audience]
    structured = set()
    for c in body["rules"]["contributions"]:
        structured.update(c["references"])
    for part in list(body["indices"].values()) + list(body["established"].values()) + body["mechanisms"]:
        structured.update(part["references"])
    for r in body["references"]:
        assert r["in_explanation"] or r["id"] in structured, r["id"]
    ids = [r["id"] for r in body["references"]]
    assert len(ids) == len(set(ids)) and structured <= set(ids)


def test_patient_narrative_puts_modifiable_factors_first(scorer):
    text = scorer.score({**ACCEPTANCE_PATIENT, "ethnicity": "south_asian"}, audience="patient")["explanation"]
    assert text.index("Things you can change") < text.index("Things you cannot change")
    assert text.index("Body-mass index") < text.index("Ethnicity")


def test_missing_inputs_are_part_of_the_narrative(scorer):
    body = scorer.score({"age": 45, "sex": "female", "fasting_glucose": 95, "bmi": 27})
    assert "Adding fasting insulin would allow HOMA-IR" in body["explanation"]
    assert "Not given:" in body["explanation"]
    patient = scorer.score({"age": 45, "sex": "female", "fasting_glucose": 95, "bmi": 27}, audience="patient")
    assert "Adding fasting insulin" in patient["explanation"] and "more measures" in patient["explanation"]
    assert fk_grade(patient["explanation"]) <= 9


def test_minimal_patient_still_has_an_explanation(scorer):
    for audience in ("clinician", "patient"):
        body = scorer.score({"age": 30, "sex": "male"}, audience=audience)
        assert body["explanation"].strip()
        assert all(1 <= n <= len(body["references"]) for n in cited_numbers(body["explanation"]))


def test_unknown_audience_is_a_validation_problem(scorer):
    with pytest.raises(ValidationProblem) as info:
        scorer.score(dict(ACCEPTANCE_PATIENT), audience="nurse")
    assert "audience" in info.value.errors


VARIED = [
    {"age": 38, "sex": "female", "ethnicity": "south_asian", "bmi": 26, "waist": 85,
     "gestational_diabetes": True, "pcos": True, "smoking": "current", "sleep_hours_per_night": 5,
     "hba1c": 6.1, "medications": ["olanzapine", "atorvastatin", "hydrochlorothiazide", "aspirin"],
     "alt": 40, "alt_unit": "U/L", "il6": 3, "tnf_alpha": 2, "sedentary_hours_per_day": 10},
    {"age": 70, "sex": "male", "ethnicity": "japanese", "weight": 60, "height": 165, "waist": 88,
     "hip": 95, "fasting_glucose": 7.2, "fasting_glucose_unit": "mmol/L", "fasting_insulin": 60,
     "fasting_insulin_unit": "pmol/L", "triglycerides": 2.1, "triglycerides_unit": "mmol/L",
     "hdl_cholesterol": 0.9, "hdl_cholesterol_unit": "mmol/L", "hs_crp": 12, "hs_crp_unit": "mg/L", "smoking": "former",
     "medications": ["tacrolimus", "L04AA10", "ritonavir", "niacin"]},
    {"age": 25, "sex": "female", "bmi": 21, "mvpa_minutes_per_week": 300, "sleep_hours_per_night": 7.5,
     "family_history_diabetes": "second_degree", "medications": []},
]


@pytest.mark.parametrize("raw", VARIED)
def test_varied_patients_readable_and_resolved(scorer, raw):
    clin = scorer.score(dict(raw))
    pat = scorer.score(dict(raw), audience="patient")
    assert numbers(pat) == numbers(clin)
    assert fk_grade(pat["explanation"]) <= 9, pat["explanation"]
    for body in (clin, pat):
        used = cited_numbers(body["explanation"])
        assert all(1 <= n <= len(body["references"]) for n in used)
        assert list(dict.fromkeys(used)) == list(range(1, len(set(used)) + 1))
