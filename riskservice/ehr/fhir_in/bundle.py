"""Entry point: a Bundle (or a list of resources) -> one :class:`MappingResult`.

Resources are checked with the ``fhir.resources.R4B`` models first; a resource that does not
parse is reported as unmappable, never silently dropped.
"""
from __future__ import annotations

from datetime import date

from .conditions import map_conditions
from .family import map_family
from .helpers import reference_of
from .medications import DrugResolver, map_medications
from .observations import map_observations
from .patient import map_patient
from .result import BundleError, Lookback, MappingResult

SUPPORTED_BUNDLE_TYPES = {"collection", "searchset", "transaction", "batch", "transaction-response",
                          "batch-response"}


def resources_from_bundle(bundle: dict) -> list[tuple[dict, str | None]]:
    """(resource, fullUrl) pairs of a Bundle; validates the Bundle shell only."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError("expected a FHIR Bundle (resourceType 'Bundle')")
    if bundle.get("type") not in SUPPORTED_BUNDLE_TYPES:
        raise BundleError(f"unsupported Bundle.type {bundle.get('type')!r}; use collection, searchset or transaction")
    out = []
    entries = bundle.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise BundleError("Bundle.entry must be an array")
    for i, entry in enumerate(entries or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise BundleError(f"Bundle.entry[{i}] has no resource")
        res = entry["resource"]
        if res.get("resourceType") == "Bundle":      # nested searchset (e.g. prefetch content)
            out.extend(resources_from_bundle(res))
        else:
            out.append((res, entry.get("fullUrl")))
    return out


_R4B_MODULES = {
    "Patient": "patient", "Observation": "observation", "Condition": "condition",
    "FamilyMemberHistory": "familymemberhistory", "MedicationStatement": "medicationstatement",
    "MedicationRequest": "medicationrequest", "Medication": "medication",
    "OperationOutcome": "operationoutcome",
}


def validate_resource(resource: dict) -> str | None:
    """None when the resource parses with fhir.resources.R4B, else a short reason (no values)."""
    rtype = resource.get("resourceType")
    module = _R4B_MODULES.get(rtype)
    if module is None:
        return None
    import importlib

    import pydantic
    cls = getattr(importlib.import_module(f"fhir.resources.R4B.{module}"), rtype)
    try:
        cls.model_validate(resource)
    except pydantic.ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"][:2]) for err in exc.errors()})[:5]
        return f"not valid FHIR R4 {rtype} (problem in: {', '.join(fields) or 'structure'})"
    return None


def map_bundle(bundle: dict, as_of: date, lookback: Lookback | None = None,
               drug_resolver: DrugResolver | None = None) -> MappingResult:
    return map_resources(resources_from_bundle(bundle), as_of, lookback, drug_resolver)


def map_resources(items: list[tuple[dict, str | None]], as_of: date, lookback: Lookback | None = None,
                  drug_resolver: DrugResolver | None = None) -> MappingResult:
    lookback = lookback or Lookback.from_config(None)
    result = MappingResult(as_of=as_of)
    valid: list[tuple[dict, str | None]] = []
    for res, full_url in items:
        ref = reference_of(res, full_url)
        problem = validate_resource(res)
        if problem:
            result.issue(ref, problem, code="structure")
            continue
        valid.append((res, full_url))

    by_type: dict[str, list[tuple[dict, str | None]]] = {}
    for res, full_url in valid:
        by_type.setdefault(res["resourceType"], []).append((res, full_url))

    patient_refs = map_patient(by_type.get("Patient", []), as_of, result)

    def belongs(res: dict) -> bool:
        subj = (res.get("subject") or res.get("patient") or {}).get("reference")
        return subj is None or not patient_refs or subj in patient_refs or any(
            subj.endswith("/" + p) for p in patient_refs if p.startswith("Patient/"))

    medications = {(reference_of(r, u)): r for r, u in by_type.get("Medication", [])}
    for rtype in ("Observation", "Condition", "FamilyMemberHistory", "MedicationStatement",
                  "MedicationRequest"):
        kept = []
        for res, full_url in by_type.get(rtype, []):
            if belongs(res):
                kept.append((res, full_url))
            else:
                result.issue(reference_of(res, full_url), f"{rtype} belongs to another patient; not used", code="invalid")
        by_type[rtype] = kept

    map_observations(by_type.get("Observation", []), as_of, lookback, result)
    map_family(by_type.get("FamilyMemberHistory", []), result)
    map_conditions(by_type.get("Condition", []), result)
    map_medications(by_type.get("MedicationStatement", []) + by_type.get("MedicationRequest", []),
                     medications, drug_resolver, result)

    handled = set(_R4B_MODULES) - {"OperationOutcome"}
    for res, full_url in valid:
        rtype = res["resourceType"]
        if rtype == "OperationOutcome":
            result.issue(None, "the EHR reported an OperationOutcome instead of data for one prefetch query",
                         code="incomplete")
        elif rtype not in handled:
            result.issue(reference_of(res, full_url), f"resource type {rtype} is not used by this service")
    return result
