"""Patient -> age (on the as_of date) and sex."""
from __future__ import annotations

from datetime import date

from .helpers import age_on, reference_of
from .result import BundleError, MappingResult


def map_patient(patients: list[tuple[dict, str | None]], as_of: date, result: MappingResult) -> set[str]:
    if not patients:
        result.issue(None, "no Patient resource: age and sex cannot be derived", code="required",
                     severity="error")
        return set()
    ids = {reference_of(p, u) for p, u in patients}
    if len(ids) > 1:
        raise BundleError("the Bundle holds more than one Patient; send one patient per request")
    patient, full_url = patients[0]
    ref = reference_of(patient, full_url)
    result.subject = ref
    refs = {r for r in (ref, full_url) if r}
    used = False
    if patient.get("birthDate"):
        years, note = age_on(patient["birthDate"], as_of)
        result.payload["age"] = years
        result.sources["age"] = {"reference": ref, "element": "Patient.birthDate"}
        used = True
        if note:
            result.assumptions.append(note)
    else:
        result.issue(ref, "Patient.birthDate is missing: age unknown", code="required")
    gender = patient.get("gender")
    if gender in ("female", "male"):
        result.payload["sex"] = gender
        result.sources["sex"] = {"reference": ref, "element": "Patient.gender"}
        used = True
    else:
        result.issue(ref, f"Patient.gender is {gender or 'missing'}: the score needs female or male "
                          "(administrative gender is used as a proxy for sex)", code="required")
    if used:
        result.use(ref)
    return refs
