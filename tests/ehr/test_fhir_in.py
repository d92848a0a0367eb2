import copy
from datetime import date

import pytest

from riskservice.config import DEFAULTS
from riskservice.ehr import fhir_in

from .helpers import load_bundle

AS_OF = date(2026, 11, 20)


def mapped(name, **kw):
    return fhir_in.map_bundle(load_bundle(name), AS_OF, **kw)


def diag(result):
    return " | ".join(i["diagnostics"] for i in result.unmapped)


def test_complete_patient_maps_every_input():
    r = mapped("complete")
    p = r.payload
    assert p["age"] == 52 and p["sex"] == "female"
    assert (p["weight"], p["weight_unit"], p["height"], p["height_unit"]) == (92.0, "kg", 165, "cm")
    assert p["bmi"] == 33.8 and (p["waist"], p["waist_unit"]) == (104, "cm") and p["hip"] == 112
    assert (p["fasting_glucose"], p["fasting_glucose_unit"]) == (104, "mg/dL")
    assert (p["fasting_insulin"], p["fasting_insulin_unit"]) == (18.2, "u[IU]/mL")
    assert p["hba1c_unit"] == "%" and p["hs_crp"] == 4.1 and p["il6"] == 3.2 and p["tnf_alpha"] == 9.0
    assert p["alt"] == 38 and p["mvpa_minutes_per_week"] == 60
    assert p["pcos"] is True and p["hypertension"] is True and p["gestational_diabetes"] is True
    assert p["family_history_diabetes"] == "first_degree"
    assert r.subject == "Patient/p-complete"
    assert "Observation/c-glu" in r.basis and "FamilyMemberHistory/c-fmh-father" in r.basis
    assert "MedicationRequest/c-mr-olz" in r.basis
    # the stopped statin is reported, not used
    assert "MedicationRequest/c-mr-ator" not in r.basis and "stopped" in diag(r)


def test_complete_patient_medications_with_a_resolver():
    def resolver(value):
        return {"id": "x"} if value in ("H02AB06", "N05AH03") else None
    r = mapped("complete", drug_resolver=resolver)
    assert r.payload["medications"] == ["H02AB06", "N05AH03"]
    sources = {s["reference"]: s["matched_by"] for s in r.sources["medications"]}
    assert sources == {"MedicationStatement/c-ms-pred": "ATC code",
                       "MedicationRequest/c-mr-olz": "RxNorm 61381 via project table"}


def test_sparse_patient_partial_birth_date():
    r = mapped("sparse")
    assert r.payload == {"age": 45, "sex": "male", "weight": 81.5, "weight_unit": "kg",
                         "height": 1.78, "height_unit": "m"}
    assert any("only a year" in a for a in r.assumptions)
    assert r.unmapped == []


def test_molar_units_pass_through_as_ucum():
    p = mapped("molar").payload
    assert (p["fasting_glucose"], p["fasting_glucose_unit"]) == (5.9, "mmol/L")
    assert (p["fasting_insulin"], p["fasting_insulin_unit"]) == (110, "pmol/L")
    assert p["triglycerides_unit"] == "mmol/L" and p["hdl_cholesterol_unit"] == "mmol/L"
    assert (p["hba1c"], p["hba1c_unit"]) == (41, "mmol/mol")
    assert (p["weight_unit"], p["height_unit"], p["waist_unit"]) == ("[lb_av]", "[in_i]", "[in_i]")


def test_half_sibling_is_second_degree_and_step_parent_not_counted():
    r = mapped("molar")
    assert r.payload["family_history_diabetes"] == "second_degree"
    assert "FamilyMemberHistory/m-fmh-stepfather" not in r.basis
    assert "no genetic link" in diag(r)


def test_duplicates_most_recent_valid_and_conflicts_reported():
    r = mapped("duplicates")
    p = r.payload
    assert p["bmi"] == 31.2                               # newest of two
    assert p["waist"] == 103                              # final beats preliminary at the same time
    assert p["fasting_glucose"] == 98                     # newer entered-in-error / cancelled ignored
    assert "hba1c" not in p                               # outside 1-year look-back
    assert "triglycerides" not in p                       # dated after as_of
    assert "hypertension" not in p                        # refuted
    assert p["family_history_diabetes"] == "first_degree" # brother beats grandmother; mother entered-in-error
    codes = {i["expression"][0]: i["code"] for i in r.unmapped}
    assert codes["Observation/d-waist-prelim"] == "conflict"
    assert "Observation/d-glu-eie" in codes and "Observation/d-glu-cancel" in codes
    assert "Observation/d-bmi-new" in r.basis and "Observation/d-bmi-old" not in r.basis


def test_duplicates_medication_reference_resolved():
    r = mapped("duplicates", drug_resolver=lambda v: {"id": "aa"} if v == "N05AH04" else None)
    assert r.payload["medications"] == ["N05AH04"]


def test_lookback_is_configurable():
    r = mapped("duplicates", lookback=fhir_in.Lookback(lab=3 * 365))
    assert r.payload["hba1c"] == 6.1
    cfg = fhir_in.Lookback.from_config({**DEFAULTS, "EHR_LOOKBACK_LAB_DAYS": "30"})
    assert cfg.lab == 30 and cfg.anthropometry == 730


def test_unknown_codes_are_listed_never_dropped():
    r = mapped("unknown")
    assert r.payload == {"age": 36, "sex": "female", "weight": 70, "weight_unit": "kg",
                         "height": 170, "height_unit": "cm"}
    reported = {i["expression"][0] for i in r.unmapped if i.get("expression")}
    expected = {"Observation/u-local", "Observation/u-rand-glu", "Observation/u-crp-nmol",
                "Observation/u-glu-badunit", "Observation/u-absent", "Observation/u-nostatus",
                "Condition/u-cond-local", "FamilyMemberHistory/u-fmh-other",
                "MedicationStatement/u-ms-vitd", "Encounter/u-enc", "Observation/u-other-patient"}
    assert expected <= reported
    every = {e["resource"].get("resourceType") + "/" + e["resource"]["id"] for e in load_bundle("unknown")["entry"]}
    assert every == reported | set(r.basis)               # each resource is either used or reported
    text = diag(r)
    assert "unspecified timing" in text and "nmol/L is not one of the accepted" in text
    assert "another patient" in text


def test_every_fixture_resource_is_used_or_reported():
    for name in ("complete", "molar", "duplicates"):
        r = mapped(name, drug_resolver=lambda v: {"id": "x"} if v[:1].isupper() else None)
        every = {e["resource"]["resourceType"] + "/" + e["resource"]["id"] for e in load_bundle(name)["entry"]}
        reported = {i["expression"][0] for i in r.unmapped if i.get("expression")}
        referenced_meds = {"Medication/d-med-quet"}       # read through its MedicationStatement
        assert every - referenced_meds <= reported | set(r.basis), name


@pytest.mark.parametrize("birth,expected", [("2000-11-20", 26), ("2000-11-21", 25), ("2000-11", 25),
                                            ("2000", 25), ("1999", 26)])
def test_age_at_explicit_as_of(birth, expected):
    assert fhir_in.age_on(birth, AS_OF)[0] == expected


def test_birth_after_as_of_is_an_error():
    with pytest.raises(fhir_in.BundleError):
        fhir_in.age_on("2027-01-01", AS_OF)


def test_bundle_shell_errors():
    with pytest.raises(fhir_in.BundleError):
        fhir_in.map_bundle({"resourceType": "Patient"}, AS_OF)
    with pytest.raises(fhir_in.BundleError):
        fhir_in.map_bundle({"resourceType": "Bundle", "type": "document"}, AS_OF)
    two = load_bundle("sparse")
    other = copy.deepcopy(two["entry"][0])
    other["resource"]["id"] = "someone-else"
    two["entry"].append(other)
    with pytest.raises(fhir_in.BundleError, match="more than one Patient"):
        fhir_in.map_bundle(two, AS_OF)


def test_missing_patient_is_reported():
    b = load_bundle("sparse")
    b["entry"] = b["entry"][1:]
    r = fhir_in.map_bundle(b, AS_OF)
    assert "age" not in r.payload and r.unmapped[0]["severity"] == "error"


def test_parse_as_of():
    assert fhir_in.parse_as_of("2026-01-02") == date(2026, 1, 2)
    assert fhir_in.parse_as_of(None, today=date(2025, 5, 5)) == date(2025, 5, 5)
    with pytest.raises(fhir_in.BundleError):
        fhir_in.parse_as_of("yesterday")


def test_name_matching_from_text_only():
    concept = {"text": "predniSONE (DELTASONE) 10 mg tablet"}
    assert fhir_in.resolve_medication(concept, None)[0] in ("h02ab07", "prednisone")
    hit = fhir_in.resolve_medication(concept, lambda v: {"id": "gc"} if v == "prednisone" else None)
    assert hit[0] == "prednisone" and hit[2] == "name in text"


def test_censored_values_and_proposals_are_not_used():
    b = load_bundle("complete")
    for e in b["entry"]:
        r = e["resource"]
        if r["id"] == "c-crp":
            r["valueQuantity"]["comparator"] = "<"
        if r["id"] == "c-mr-olz":
            r["intent"] = "proposal"
    res = fhir_in.map_bundle(b, AS_OF)
    assert "hs_crp" not in res.payload and "Observation/c-crp" not in res.basis
    assert "MedicationRequest/c-mr-olz" not in res.basis
    assert "censored" in diag(res) and "intent proposal" in diag(res)
