"""Property tests: whatever subset of a realistic record arrives, every resource is either used
or reported, and the CDS answer stays valid."""
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskservice.ehr import fhir_in

from .helpers import assert_valid_cds_response, load_bundle

POOL = [(name, e) for name in ("complete", "molar", "duplicates", "unknown")
        for e in load_bundle(name)["entry"] if e["resource"]["resourceType"] != "Patient"]
PATIENT = load_bundle("complete")["entry"][0]
OBS_STATUS = ["final", "amended", "preliminary", "entered-in-error", "cancelled", "registered", "unknown"]


def _retarget(entry):
    res = dict(entry["resource"])
    for key in ("subject", "patient"):
        if key in res:
            res[key] = {"reference": "Patient/p-complete"}
    return {"fullUrl": entry.get("fullUrl"), "resource": res}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.sampled_from(range(len(POOL))), max_size=25, unique=True),
       statuses=st.lists(st.sampled_from(OBS_STATUS), min_size=25, max_size=25),
       as_of=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 1, 1)))
def test_every_resource_used_or_reported(picks, statuses, as_of):
    entries = [PATIENT]
    for i, idx in enumerate(picks):
        e = _retarget(POOL[idx][1])
        if e["resource"]["resourceType"] == "Observation" and "status" in e["resource"]:
            e["resource"]["status"] = statuses[i]
        entries.append(e)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    r = fhir_in.map_bundle(bundle, as_of)
    reported = {x for i in r.unmapped for x in i.get("expression", [])}
    ids = {e["resource"]["resourceType"] + "/" + e["resource"]["id"] for e in entries}
    ids.discard("Medication/d-med-quet")                  # read through its MedicationStatement
    assert ids <= reported | set(r.basis)
    assert set(r.basis) <= ids
    for k, v in r.payload.items():
        assert v is not None, k


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.sampled_from(range(len(POOL))), max_size=15, unique=True))
def test_cds_answer_always_valid(fake_client, picks):
    from .helpers import _searchset
    items = [_retarget(POOL[i][1])["resource"] for i in picks]
    prefetch = {"patient": PATIENT["resource"],
                "anthropometry": _searchset([r for r in items if r["resourceType"] == "Observation"]),
                "labs": None, "conditions": _searchset([r for r in items if r["resourceType"] == "Condition"]),
                "medicationRequests": _searchset([r for r in items if r["resourceType"] == "MedicationRequest"]),
                "medicationStatements": _searchset([r for r in items if r["resourceType"] == "MedicationStatement"]),
                "familyHistory": _searchset([r for r in items if r["resourceType"] == "FamilyMemberHistory"])}
    body = {"hook": "patient-view", "hookInstance": "x-1", "context": {"userId": "Practitioner/1",
                                                                      "patientId": "p-complete"},
            "prefetch": prefetch, "extension": {"org.riskservice.as_of": "2026-11-20"}}
    resp = fake_client.post("/cds-services/ir-risk", json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert_valid_cds_response(resp.get_json())
