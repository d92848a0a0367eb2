"""Medications as people write them: brand names, doses, routes, misspellings, hostile strings."""
import csv
import io
import json

import pytest

from riskservice.core.errors import KnowledgeError
from riskservice.core.knowledge import load_knowledge
from riskservice.core.medications import ROUTES, MedicationMatch


def edit(directory, name, change):
    path = directory / f"{name}.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("entry, class_id, route", [
    ("Zyprexa", "atypical_antipsychotics", "unstated"),
    ("Medrol", "glucocorticoids", "oral"),
    ("Prednisolone 5 mg", "glucocorticoids", "unstated"),
    ("prednisolone 5mg tablets", "glucocorticoids", "oral"),
    ("PREDNISOLONE 5MG TABLETS ONCE DAILY", "glucocorticoids", "oral"),
    ("medrol 4mg od", "glucocorticoids", "oral"),
    ("Solu-Medrol 40 mg IV", "glucocorticoids", "parenteral"),
    ("methylprednisolone 80 mg IM depot", "glucocorticoids", "parenteral"),
    ("Zyprexa Relprevv 405 mg", "atypical_antipsychotics", "parenteral"),
    ("H02AB06", "glucocorticoids", "unstated"),
    ("h02ab06", "glucocorticoids", "unstated"),
    ("tacrolimus PR 5mg", "calcineurin_inhibitors", "unstated"),
    ("Ｐｒｅｄｎｉｓｏｌｏｎｅ　５ｍｇ", "glucocorticoids", "unstated"),
])
def test_brand_names_and_dose_strings_map_to_their_scoring_class(kb, entry, class_id, route):
    m = kb.match_medication(entry)
    assert (m.class_id, m.route, m.excluded_reason) == (class_id, route, None)
    assert m.scores and m.systemic
    assert kb.drug_class_for(entry)["id"] == class_id


@pytest.mark.parametrize("entry, class_id, route", [
    ("hydrocortisone cream", "glucocorticoids", "topical"),
    ("Hydrocortisone 1% ointment", "glucocorticoids", "topical"),
    ("hydrocortisone 1%", "glucocorticoids", "percent"),
    ("timolol eye drops", "beta_blockers_nonvasodilating", "ophthalmic"),
    ("Timoptic", "beta_blockers_nonvasodilating", "ophthalmic"),
    ("Pred Forte 1%", "glucocorticoids", "ophthalmic"),
    ("dexamethasone ear drops", "glucocorticoids", "otic"),
    ("Nasacort", "glucocorticoids", "nasal"),
    ("Nasacort spray", "glucocorticoids", "nasal"),
    ("Pred Forte drops", "glucocorticoids", "ophthalmic"),
    ("Timolol 0.5% Ophthalmic Solution", "beta_blockers_nonvasodilating", "ophthalmic"),
    ("triamcinolone nasal spray", "glucocorticoids", "nasal"),
    ("triamcinolone 40 mg intra-articular injection", "glucocorticoids", "local_injection"),
    ("Depo-Medrol knee injection", "glucocorticoids", "local_injection"),
    ("hydrocortisone enema", "glucocorticoids", "rectal"),
    ("Protopic 0.1% ointment", "calcineurin_inhibitors", "topical"),
    ("ciclosporin eye drops", "calcineurin_inhibitors", "ophthalmic"),
    ("Restasis", "calcineurin_inhibitors", "ophthalmic"),
    ("fluticasone inhaler", "corticosteroids_local", "inhaled"),
    ("budesonide 3 mg capsules", "corticosteroids_local", "oral"),
    ("Pulmicort", "corticosteroids_local", "inhaled"),
    ("D07AA02", "corticosteroids_local", "unstated"),
])
def test_local_routes_are_recognised_but_not_scored(kb, entry, class_id, route):
    m = kb.match_medication(entry)
    assert (m.class_id, m.route) == (class_id, route)
    assert m.excluded_reason and "not scored" in m.excluded_reason or "never scored" in m.excluded_reason
    assert not m.scores and not m.systemic
    assert kb.drug_class_for(entry) is None


def test_an_entry_that_names_a_systemic_route_overrides_a_brand_default(kb):
    assert kb.match_medication("Kenalog").route == "unstated"
    assert kb.match_medication("Kenalog").scores
    assert kb.match_medication("Kenalog cream").route == "topical"
    assert not kb.match_medication("Kenalog cream").scores


def test_minoxidil_counts_only_when_taken_by_mouth(kb):
    bare = kb.match_medication("minoxidil")
    assert bare.class_id == "direct_vasodilators" and not bare.scores
    assert "route not stated" in bare.excluded_reason
    assert kb.match_medication("minoxidil 2.5 mg tablets").scores
    assert kb.match_medication("oral minoxidil").scores
    assert not kb.match_medication("Rogaine foam").scores
    assert not kb.match_medication("minoxidil 5% solution").scores


def test_a_patch_is_systemic(kb):
    m = kb.match_medication("clonidine 0.1 mg/24 h patch")
    assert (m.class_id, m.route, m.scores) == ("centrally_acting_antihypertensives", "transdermal", True)


@pytest.mark.parametrize("entry, class_id", [
    ("ramipril 10 mg", "ace_inhibitors"), ("lisinopril", "ace_inhibitors"), ("C09AA05", "ace_inhibitors"),
    ("losartan", "angiotensin_receptor_blockers"), ("Diovan 80mg", "angiotensin_receptor_blockers"),
    ("amlodipine 5mg", "calcium_channel_blockers"), ("Norvasc", "calcium_channel_blockers"),
    ("bendroflumethiazide 2.5mg", "thiazides"), ("indapamide", "thiazides"),
    ("atenolol 50 mg", "beta_blockers_nonvasodilating"), ("bisoprolol", "beta_blockers_nonvasodilating"),
    ("carvedilol", "beta_blockers_vasodilating"), ("nebivolol", "beta_blockers_vasodilating"),
    ("C07AB12", "beta_blockers_vasodilating"), ("furosemide 40mg", "loop_diuretics"),
    ("frusemide", "loop_diuretics"), ("spironolactone", "potassium_sparing_diuretics"),
    ("doxazosin", "alpha_blockers"), ("methyldopa", "centrally_acting_antihypertensives"),
    ("hydralazine", "direct_vasodilators"), ("aliskiren", "renin_inhibitors"),
])
def test_every_antihypertensive_class_is_recognised(kb, entry, class_id):
    m = kb.match_medication(entry)
    assert (m.class_id, m.scores) == (class_id, True)
    assert class_id in kb.established["derived_inputs"]["antihypertensive"]["drug_classes"]


def test_antihypertensive_list_names_real_classes_and_only_blood_pressure_drugs(kb):
    listed = kb.established["derived_inputs"]["antihypertensive"]["drug_classes"]
    assert set(listed) <= set(kb.drug_by_id)
    assert {"thiazides", "beta_blockers_nonvasodilating", "ace_inhibitors", "angiotensin_receptor_blockers",
            "calcium_channel_blockers", "loop_diuretics", "alpha_blockers"} <= set(listed)
    assert not {"statins", "glucocorticoids", "typical_antipsychotics"} & set(listed)
    assert kb.match_medication("nimodipine").class_id is None          # not for blood pressure
    assert kb.match_medication("C08CA06").class_id is None
    assert kb.match_medication("C08CA01").class_id == "calcium_channel_blockers"


def test_antihypertensive_classes_outside_insulin_resistance_score_no_points(kb):
    for c in kb.medication_classes:
        if not c.get("insulin_resistance", True):
            assert c["points"] == 0 and c["effect"] is None
            assert c not in kb.drug_classes
    assert kb.drug_class_for("ramipril") is None        # recognised, but not an insulin-resistance factor
    assert kb.match_medication("ramipril").insulin_resistance is False


def test_loxapine_is_a_typical_antipsychotic(kb):
    for entry in ("loxapine", "N05AH01", "Loxitane 10 mg capsules"):
        m = kb.match_medication(entry)
        assert m.class_id == "typical_antipsychotics", entry
        assert kb.drug_class_for(entry) is None
    for entry in ("olanzapine", "N05AH03", "clozapine", "N05AH02", "quetiapine"):
        assert kb.drug_class_for(entry)["id"] == "atypical_antipsychotics", entry
    assert kb.match_medication("haloperidol").class_id == "typical_antipsychotics"


@pytest.mark.parametrize("entry, suggestion", [
    ("predisolone", "prednisolone"), ("prednisolon 5mg", "prednisolone"), ("prednisolonë", "prednisolone"),
    ("amlodipin", "amlodipine"), ("zyprexia", "Zyprexa"), ("olanzepine tablets", "olanzapine"),
    ("hydrochlorthiazide 25 mg", "hydrochlorothiazide"),
])
def test_unknown_names_get_a_suggestion_by_edit_distance(kb, entry, suggestion):
    m = kb.match_medication(entry)
    assert m.class_id is None and m.suggestion == suggestion
    assert f"Did you mean {suggestion}?" in m.message()
    assert kb.drug_class_for(entry) is None


@pytest.mark.parametrize("entry", ["paracetamol 500 mg", "aspirin", "xyz", "vitamin D 1000 units"])
def test_names_far_from_any_known_name_get_no_suggestion(kb, entry):
    m = kb.match_medication(entry)
    assert (m.class_id, m.suggestion, m.excluded_reason) == (None, None, None)
    assert m.message().startswith("not in the medication vocabulary")


@pytest.mark.parametrize("entry, reason", [
    ("", "empty entry"), ("   ", "empty entry"), ("\ud800", "empty entry"), ("\u200b\u00a0", "empty entry"),
    ("5 mg", "only a dose"), ("10mg bd", "only a dose"), ("0.5%", "only a dose"), ("tablets", "only a dose"),
    ("2 puffs twice daily", "only a dose"),
])
def test_entries_without_a_name_say_so(kb, entry, reason):
    m = kb.match_medication(entry)
    assert m.class_id is None and reason in m.excluded_reason
    assert kb.drug_class_for(entry) is None


@pytest.mark.parametrize("entry", [
    "x" * 100, "prednisolone " + "x" * 87, "p" * 5000, "\ud800prednisolone", "prednisolone\udfff 5 mg",
    "🙂💊", "преднизолон", "泼尼松龙", "prednisolone\x00", "\u202eenolosinderp", "%%%%", "----", "<script>",
    "a" * 39 + "b", "1" * 100, "H02AB" * 20, "prednisolone " * 20,
])
def test_hostile_strings_never_raise_and_stay_bounded(kb, entry):
    m = kb.match_medication(entry)
    assert isinstance(m, MedicationMatch)
    assert m.route in ROUTES
    assert m.suggestion is None or len(m.suggestion) <= 40
    kb.drug_class_for(entry)


def test_a_lone_surrogate_does_not_hide_the_name(kb):
    assert kb.match_medication("prednisolone\udfff 5 mg").class_id == "glucocorticoids"


@pytest.mark.parametrize("value", [None, 5, 1.5, ["prednisolone"], {"name": "prednisolone"}, b"prednisolone"])
def test_non_text_entries_are_reported_not_raised(kb, value):
    m = kb.match_medication(value)
    assert m.class_id is None and m.excluded_reason == "not a text entry"


def test_a_combination_names_every_class_and_scores_the_insulin_resistance_one(kb):
    m = kb.match_medication("losartan/hydrochlorothiazide 50/12.5 mg")
    assert m.class_id == "thiazides"
    assert set(m.class_ids) == {"thiazides", "angiotensin_receptor_blockers"}
    assert kb.drug_class_for("losartan/hydrochlorothiazide 50/12.5 mg")["id"] == "thiazides"


def test_results_are_cached_per_distinct_string(kb):
    first = kb.match_medication("Medrol 4 mg")
    assert kb.match_medication("Medrol 4 mg") is first
    assert kb.match_medication("Medrol 4mg") is not first


def test_every_synonym_resolves_to_its_generics_class(kb):
    by_name = {n.lower(): c["id"] for c in kb.medication_classes for n in c["names"]}
    assert len(kb.medication_synonyms) > 150
    for s in kb.medication_synonyms:
        m = kb.match_medication(s["name"])
        assert m.class_id == by_name[s["generic"].lower()], s["name"]
        assert m.generic == s["generic"]
        assert s["unii_display_name"].lower().startswith(s["generic"].lower())


def test_route_policy_is_cited_and_conservative(kb):
    policy = kb.route_policy
    assert set(policy["counted_routes"]) == {"oral", "parenteral", "transdermal"}
    assert all(r in kb.references for r in policy["references"])
    assert all(r in kb.references for c in kb.medication_classes for r in c["references"])


@pytest.mark.parametrize("breakage, file, message", [
    (lambda d: d["synonyms"].append({"name": "Fakebrand", "generic": "unobtainium", "route": None}),
     "medication_synonyms", "generic 'unobtainium' is not a name"),
    (lambda d: d["synonyms"].append({"name": "Medrol", "generic": "prednisolone", "route": None}),
     "medication_synonyms", "listed twice"),
    (lambda d: d["synonyms"].append({"name": "X", "generic": "prednisolone", "route": "ear"}),
     "medication_synonyms", "does not match its schema"),
    (lambda d: d["classes"][-1].__setitem__("points", 2), "drug_classes", "0 points and no effect"),
    (lambda d: d["classes"][0].__setitem__("mechanisms", []), "drug_classes", "needs at least one mechanism"),
    (lambda d: d["classes"][-1]["names"].append("prednisolone"), "drug_classes", "names in more than one class"),
    (lambda d: d["route_policy"].__setitem__("references", ["nobody2099"]), "drug_classes", "nobody2099"),
])
def test_broken_medication_data_stops_start_up(knowledge_copy, breakage, file, message):
    edit(knowledge_copy, file, breakage)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(knowledge_copy)


def test_routes_change_the_score_through_the_server(client):
    base = {"age": 52, "sex": "male", "bmi": 31}

    def meds(entries):
        r = client.post("/v1/score", json={**base, "medications": entries})
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        return {c["factor"]: c["points"] for c in body["rules"]["contributions"]
                if c["factor"].startswith("medication:")}, body

    scored, _ = meds(["Medrol 4 mg tablets"])
    assert "medication:glucocorticoids" in scored
    local, _ = meds(["hydrocortisone cream", "timolol eye drops", "fluticasone inhaler"])
    assert local == {}
    _, body = meds(["atenolol 50 mg"])
    item = next(i for i in body["established"]["findrisc"]["items"] if i["item"] == "antihypertensive")
    assert (item["value"], item["source"]) == (True, "medications")
    _, body = meds(["timolol eye drops"])
    item = next(i for i in body["established"]["findrisc"]["items"] if i["item"] == "antihypertensive")
    assert (item["value"], item["points"]) == (False, 0)   # a list was given: eye drops are not BP treatment


def test_routes_change_the_score_in_a_csv_batch(client):
    body = (b"age,sex,bmi,medications\n"
            b"52,male,31,Medrol 4 mg tablets\n"
            b"52,male,31,hydrocortisone cream;timolol eye drops\n"
            b"52,male,31,\n")
    r = client.post("/v1/score/batch", data=body, content_type="text/csv")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    systemic, local, none = rows[:3]
    # no class adds points now (no usable insulin-sensitivity estimate), but the route still decides whether the
    # medicine counts: the systemic one drives its mechanisms, the local ones are named as not systemic
    assert systemic["points"] == local["points"] == none["points"]
    assert "not systemic" in local["warnings"] and "not systemic" not in systemic["warnings"]
    assert systemic["mechanism_1"] != none["mechanism_1"] or systemic["mechanism_2"] != none["mechanism_2"]


def test_antihypertensive_entries_for_the_questionnaires(kb):
    entries = ["ramipril 10 mg", "timolol eye drops", "Medrol", "amlodipine", "minoxidil", "Loniten",
               "losartan/hydrochlorothiazide", "simvastatin", "clonidine patch", "", None]
    assert kb.antihypertensive_entries(entries) == [
        "ramipril 10 mg", "amlodipine", "Loniten", "losartan/hydrochlorothiazide", "clonidine patch"]
    assert kb.antihypertensive_entries([]) == [] and kb.antihypertensive_entries(None) == []
