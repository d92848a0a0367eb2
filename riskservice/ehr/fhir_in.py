"""FHIR R4 resources -> the core's flat input payload.

Pure functions over plain JSON dicts (no Flask). Resources are checked with the
``fhir.resources.R4B`` models first; a resource that does not parse is reported as
unmappable, never silently dropped. The mapping itself (which code means which input,
which UCUM units are accepted) lives in ``mapping/*.json``.

Result of :func:`map_resources`:

- ``payload``: flat dict for the core (``age``, ``sex``, ``weight`` + ``weight_unit``...);
- ``basis``: references (``Observation/abc``) of every resource whose data went into the payload;
- ``unmapped``: OperationOutcome-style issues (``severity``, ``code``, ``diagnostics``,
  ``expression``) for every resource, or part of one, that was not used, with the reason;
- ``assumptions``: things the adapter had to assume (partial birth date, unknown degree...).
"""
from __future__ import annotations

import calendar
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources as importlib_resources
from typing import Any, Callable, Iterable

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

#: Observation statuses that carry no usable result.
IGNORED_OBSERVATION_STATUS = {"entered-in-error", "cancelled", "registered"}
#: Preference among same-time duplicates (higher wins).
STATUS_RANK = {"corrected": 3, "amended": 3, "final": 2, "preliminary": 1, "unknown": 0}

#: MedicationRequest intents that do not mean the patient is taking the drug.
NOT_AN_ORDER_INTENTS = {"proposal", "plan", "option", "directive"}

SUPPORTED_BUNDLE_TYPES = {"collection", "searchset", "transaction", "batch", "transaction-response",
                          "batch-response"}

DrugResolver = Callable[[str], "dict | None"]


class BundleError(ValueError):
    """The input cannot be read as a FHIR Bundle for one patient (caller answers 400/422)."""


# --------------------------------------------------------------------------------------------
# Mapping tables
# --------------------------------------------------------------------------------------------

def _load(name: str) -> dict:
    ref = importlib_resources.files("riskservice.ehr").joinpath("mapping", name)
    return json.loads(ref.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Tables:
    observations: dict
    conditions: dict
    family: dict
    medications: dict

    obs_index: dict = field(default_factory=dict)

    def observation_concept(self, coding: dict) -> dict | None:
        return self.obs_index.get((coding.get("system"), coding.get("code")))

    def loinc_codes(self, categories: Iterable[str]) -> list[str]:
        cats = set(categories)
        return [c["code"] for concept in self.observations["concepts"] if concept["category"] in cats
                for c in concept["codes"] if c["system"] == LOINC]


@lru_cache(maxsize=1)
def tables() -> Tables:
    observations = _load("observations.json")
    index = {(c["system"], c["code"]): concept
             for concept in observations["concepts"] for c in concept["codes"]}
    return Tables(observations, _load("conditions.json"), _load("family.json"),
                  _load("medications.json"), index)


def _code_matches(entry: dict, coding: dict) -> bool:
    if coding.get("system") != entry["system"] or not coding.get("code"):
        return False
    if entry.get("match") == "prefix":
        return coding["code"].upper().startswith(entry["code"].upper())
    return coding["code"] == entry["code"]


def _first_match(entries: Iterable[dict], concept: dict | None) -> dict | None:
    for coding in (concept or {}).get("coding") or []:
        for entry in entries:
            if _code_matches(entry, coding):
                return entry
    return None


# --------------------------------------------------------------------------------------------
# Options and result
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lookback:
    """Look-back windows in days per observation category (see observations.json)."""
    anthropometry: int = 730
    lab: int = 365
    lifestyle: int = 365

    @classmethod
    def from_config(cls, config: dict | None) -> "Lookback":
        defaults = tables().observations["lookback_days"]
        config = config or {}
        return cls(
            anthropometry=int(config.get("EHR_LOOKBACK_ANTHROPOMETRY_DAYS", defaults["anthropometry"])),
            lab=int(config.get("EHR_LOOKBACK_LAB_DAYS", defaults["lab"])),
            lifestyle=int(config.get("EHR_LOOKBACK_LIFESTYLE_DAYS", defaults["lifestyle"])),
        )

    def days(self, category: str) -> int:
        return int(getattr(self, category))


@dataclass
class MappingResult:
    payload: dict = field(default_factory=dict)
    basis: list[str] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)      # field -> {"reference", "code", "effective"}
    subject: str | None = None                       # "Patient/<id>"
    as_of: date | None = None

    def use(self, ref: str | None) -> None:
        if ref and ref not in self.basis:
            self.basis.append(ref)

    def issue(self, ref: str | None, diagnostics: str, code: str = "not-supported",
              severity: str = "warning") -> None:
        item = {"severity": severity, "code": code, "diagnostics": diagnostics}
        if ref:
            item["expression"] = [ref]
        self.unmapped.append(item)

    def operation_outcome(self) -> dict:
        """The warnings as a FHIR OperationOutcome (``information`` issue when there are none)."""
        issues = [dict(i) for i in self.unmapped] or [
            {"severity": "information", "code": "informational", "diagnostics": "All supplied resources were mapped."}]
        return {"resourceType": "OperationOutcome", "issue": issues}


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_fhir_datetime(value: Any) -> datetime | None:
    """FHIR date/dateTime/instant -> aware UTC datetime (partial dates -> their first instant)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if "T" in value:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        m = _DATE_RE.match(value)
        if not m:
            return None
        return datetime(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1), tzinfo=timezone.utc)
    except ValueError:
        return None


AS_OF_EARLIEST = date(1900, 1, 1)


def parse_as_of(value: str | date | None, today: date | None = None) -> date:
    if value is None or value == "":
        return today or datetime.now(timezone.utc).date()
    if isinstance(value, date):
        parsed = value
    else:
        if not isinstance(value, str) or len(value) != 10:
            raise BundleError("as_of must be a date (YYYY-MM-DD)")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise BundleError("as_of must be a date (YYYY-MM-DD)") from None
    # Date arithmetic (look-back windows, end of day) must stay inside the calendar: a back-scoring
    # date is in the past, and a year after today is already no clinical use.
    latest = (today or datetime.now(timezone.utc).date()).replace(day=1) + timedelta(days=400)
    if not (AS_OF_EARLIEST <= parsed <= latest):
        raise BundleError(f"as_of must be between {AS_OF_EARLIEST.isoformat()} and about a year from today")
    return parsed


def age_on(birth_date: str, as_of: date) -> tuple[int, str | None]:
    """Completed years at ``as_of``. Partial dates use the latest possible birthday (never
    over-states age) and return an explanatory note."""
    m = _DATE_RE.match(birth_date or "")
    if not m:
        raise BundleError("Patient.birthDate is not a FHIR date")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    note = None
    if month is None:
        month, day = 12, 31
        note = "birth date has only a year; age computed from 31 December of that year"
    elif day is None:
        day = calendar.monthrange(year, month)[1]
        note = "birth date has no day; age computed from the last day of that month"
    born = date(year, month, day)
    if born > as_of:
        raise BundleError("Patient.birthDate is after the as_of date")
    years = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
    return years, note


def codings_text(concept: dict | None) -> str:
    concept = concept or {}
    parts = [f"{c.get('system', '?')}|{c.get('code', '?')}" for c in concept.get("coding") or []]
    if not parts and concept.get("text"):
        return "text only"
    return ", ".join(parts) or "no code"


def _ref(resource: dict, full_url: str | None) -> str | None:
    rid = resource.get("id")
    if rid:
        return f"{resource.get('resourceType')}/{rid}"
    return full_url or None


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

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
        ref = _ref(res, full_url)
        problem = validate_resource(res)
        if problem:
            result.issue(ref, problem, code="structure")
            continue
        valid.append((res, full_url))

    by_type: dict[str, list[tuple[dict, str | None]]] = {}
    for res, full_url in valid:
        by_type.setdefault(res["resourceType"], []).append((res, full_url))

    patient_refs = _map_patient(by_type.get("Patient", []), as_of, result)

    def belongs(res: dict) -> bool:
        subj = (res.get("subject") or res.get("patient") or {}).get("reference")
        return subj is None or not patient_refs or subj in patient_refs or any(
            subj.endswith("/" + p) for p in patient_refs if p.startswith("Patient/"))

    medications = {(_ref(r, u)): r for r, u in by_type.get("Medication", [])}
    for rtype in ("Observation", "Condition", "FamilyMemberHistory", "MedicationStatement",
                  "MedicationRequest"):
        kept = []
        for res, full_url in by_type.get(rtype, []):
            if belongs(res):
                kept.append((res, full_url))
            else:
                result.issue(_ref(res, full_url), f"{rtype} belongs to another patient; not used", code="invalid")
        by_type[rtype] = kept

    _map_observations(by_type.get("Observation", []), as_of, lookback, result)
    _map_family(by_type.get("FamilyMemberHistory", []), result)
    _map_conditions(by_type.get("Condition", []), result)
    _map_medications(by_type.get("MedicationStatement", []) + by_type.get("MedicationRequest", []),
                     medications, drug_resolver, result)

    handled = set(_R4B_MODULES) - {"OperationOutcome"}
    for res, full_url in valid:
        rtype = res["resourceType"]
        if rtype == "OperationOutcome":
            result.issue(None, "the EHR reported an OperationOutcome instead of data for one prefetch query",
                         code="incomplete")
        elif rtype not in handled:
            result.issue(_ref(res, full_url), f"resource type {rtype} is not used by this service")
    return result


# --------------------------------------------------------------------------------------------
# Patient
# --------------------------------------------------------------------------------------------

def _map_patient(patients: list[tuple[dict, str | None]], as_of: date, result: MappingResult) -> set[str]:
    if not patients:
        result.issue(None, "no Patient resource: age and sex cannot be derived", code="required",
                     severity="error")
        return set()
    ids = {_ref(p, u) for p, u in patients}
    if len(ids) > 1:
        raise BundleError("the Bundle holds more than one Patient; send one patient per request")
    patient, full_url = patients[0]
    ref = _ref(patient, full_url)
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


# --------------------------------------------------------------------------------------------
# Observations
# --------------------------------------------------------------------------------------------

def _effective(obs: dict) -> datetime | None:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if obs.get(key):
            return parse_fhir_datetime(obs[key])
    period = obs.get("effectivePeriod") or {}
    if period.get("end") or period.get("start"):
        return parse_fhir_datetime(period.get("end") or period.get("start"))
    return parse_fhir_datetime(obs.get("issued"))


def _map_observations(observations: list[tuple[dict, str | None]], as_of: date, lookback: Lookback,
                      result: MappingResult) -> None:
    t = tables()
    ignored = t.observations["recognised_not_used"]
    candidates: dict[str, list[tuple]] = {}
    as_of_end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc) + timedelta(days=1)
    for obs, full_url in observations:
        ref = _ref(obs, full_url)
        code = obs.get("code") or {}
        concept = next((t.observation_concept(c) for c in code.get("coding") or []
                        if t.observation_concept(c)), None)
        if concept is None:
            skip = _first_match(ignored, code)
            reason = skip["reason"] if skip else "code not in the mapping table"
            result.issue(ref, f"Observation {codings_text(code)}: {reason}", code="not-supported")
            continue
        fld = concept["field"]
        status = obs.get("status")
        if status in IGNORED_OBSERVATION_STATUS:
            result.issue(ref, f"Observation for {fld} has status {status}; ignored", code="informational",
                         severity="information")
            continue
        vq = obs.get("valueQuantity")
        if not isinstance(vq, dict) or vq.get("value") is None:
            why = "dataAbsentReason" if obs.get("dataAbsentReason") else "no valueQuantity"
            result.issue(ref, f"Observation for {fld} has no numeric value ({why})", code="incomplete")
            continue
        if vq.get("comparator"):
            result.issue(ref, f"Observation for {fld} is a censored result ({vq['comparator']} a limit); "
                              "not used as an exact value", code="value")
            continue
        unit_code = vq.get("code")
        if vq.get("system") not in (None, UCUM) or unit_code not in concept["units"]:
            result.issue(ref, f"Observation for {fld}: unit {unit_code or vq.get('unit') or 'missing'} is not "
                              f"one of the accepted UCUM codes {sorted(concept['units'])}", code="value")
            continue
        when = _effective(obs)
        if when is None:
            result.issue(ref, f"Observation for {fld} has no effective date; cannot check recency",
                         code="incomplete")
            continue
        if when >= as_of_end:
            result.issue(ref, f"Observation for {fld} is dated after as_of {as_of.isoformat()}; ignored",
                         code="informational", severity="information")
            continue
        window = lookback.days(concept["category"])
        if when < as_of_end - timedelta(days=window + 1):
            result.issue(ref, f"Observation for {fld} is older than the {window}-day look-back; ignored",
                         code="informational", severity="information")
            continue
        updated = parse_fhir_datetime((obs.get("meta") or {}).get("lastUpdated")) or when
        candidates.setdefault(fld, []).append(
            (when, STATUS_RANK.get(status, 0), updated, ref or "", obs, concept, full_url))

    for fld, items in candidates.items():
        items.sort(key=lambda x: (x[0], x[1], x[2], x[3]), reverse=True)
        when, _rank, _upd, _r, obs, concept, full_url = items[0]
        ref = _ref(obs, full_url)
        vq = obs["valueQuantity"]
        result.payload[fld] = vq["value"]
        if concept["unit_field"]:
            result.payload[concept["unit_field"]] = concept["units"][vq["code"]]
        code_used = _first_match(concept["codes"], obs.get("code"))
        result.sources[fld] = {"reference": ref, "code": code_used["code"] if code_used else None,
                               "effective": when.isoformat()}
        result.use(ref)
        for other in items[1:]:
            oref = _ref(other[4], other[6])
            same_time = other[0] == when
            ovq = other[4]["valueQuantity"]
            differs = (float(ovq["value"]), ovq.get("code")) != (float(vq["value"]), vq.get("code"))
            if same_time and differs:
                result.issue(oref, f"conflicting {fld} values at the same time; used {ref} "
                                   "(status, then last update decide)", code="conflict")
            else:
                result.issue(oref, f"older {fld} Observation; the most recent ({ref}) was used",
                             code="informational", severity="information")


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------

def _status_code(concept: dict | None) -> str | None:
    for c in (concept or {}).get("coding") or []:
        if c.get("code"):
            return c["code"]
    return None


def _map_conditions(conditions: list[tuple[dict, str | None]], result: MappingResult) -> None:
    t = tables().conditions
    excluded = set(t["excluded_verification_status"])
    fh = t["family_history_situation"]
    for cond, full_url in conditions:
        ref = _ref(cond, full_url)
        code = cond.get("code")
        verification = _status_code(cond.get("verificationStatus"))
        if verification in excluded:
            result.issue(ref, f"Condition with verificationStatus {verification}; ignored",
                         code="informational", severity="information")
            continue
        matched = False
        for spec in t["fields"]:
            if _first_match(spec["codes"], code):
                result.payload[spec["field"]] = True
                result.sources.setdefault(spec["field"], {"reference": ref, "element": "Condition.code"})
                result.use(ref)
                matched = True
                break
        if matched:
            continue
        if _first_match(fh["codes"], code):
            if "family_history_diabetes" not in result.payload:
                result.payload["family_history_diabetes"] = fh["maps_to"]
                result.sources["family_history_diabetes"] = {"reference": ref, "element": "Condition.code"}
                note = ("family history of diabetes recorded without the relative; counted as "
                        f"{fh['maps_to'].replace('_', '-')}")
                if note not in result.assumptions:
                    result.assumptions.append(note)
            result.use(ref)
            continue
        skip = _first_match(t["recognised_not_used"], code)
        reason = skip["reason"] if skip else "code not in the mapping table"
        result.issue(ref, f"Condition {codings_text(code)}: {reason}")


# --------------------------------------------------------------------------------------------
# Family history
# --------------------------------------------------------------------------------------------

_DEGREE_RANK = {"none": 0, "second_degree": 1, "first_degree": 2}


def _map_family(histories: list[tuple[dict, str | None]], result: MappingResult) -> None:
    t = tables().family
    rel_system = t["relationship_system"]
    groups = {name: set(spec["codes"]) for name, spec in t["relationships"].items()}
    for fmh, full_url in histories:
        ref = _ref(fmh, full_url)
        if fmh.get("status") == "entered-in-error":
            result.issue(ref, "FamilyMemberHistory entered-in-error; ignored", code="informational",
                         severity="information")
            continue
        has_diabetes = any(_first_match(t["diabetes_codes"], c.get("code")) for c in fmh.get("condition") or [])
        if not has_diabetes:
            result.issue(ref, "FamilyMemberHistory without a diabetes condition code in the mapping table; "
                              "not used (absence of a record is not taken as 'no family history')",
                         code="informational", severity="information")
            continue
        role = next((c.get("code") for c in (fmh.get("relationship") or {}).get("coding") or []
                     if c.get("system") == rel_system), None)
        degree = next((name for name, codes in groups.items() if role in codes), None)
        if degree is None:
            result.issue(ref, f"relationship {role or codings_text(fmh.get('relationship'))} is not a known "
                              "v3 RoleCode family member; not used", code="not-supported")
            continue
        if degree == "no_genetic_link":
            result.issue(ref, f"relationship {role} (step, adoptive or foster relative) has no genetic link; "
                              "not counted", code="informational", severity="information")
            continue
        current = result.payload.get("family_history_diabetes", "none")
        if _DEGREE_RANK[degree] >= _DEGREE_RANK.get(current, 0):
            result.payload["family_history_diabetes"] = degree
            result.sources["family_history_diabetes"] = {"reference": ref, "relationship": role}
        result.use(ref)


# --------------------------------------------------------------------------------------------
# Medications
# --------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")


def _default_resolver(name_or_atc: str) -> dict | None:
    """Used when no core knowledge is available: recognises the table's own names/ATC codes."""
    key = name_or_atc.strip().lower()
    for ing in tables().medications["ingredients"]:
        if key in (ing["name"], (ing["atc"] or "").lower()):
            return {"id": ing["name"], "name": ing["name"]}
    return None


def medication_candidates(concept: dict | None) -> list[tuple[str, str]]:
    """Ordered (value, path) candidates for the core's drug vocabulary: ATC codes, RxNorm table
    hits (ATC or generic name), then names from display/text."""
    t = tables().medications
    concept = concept or {}
    out: list[tuple[str, str]] = []
    codings = concept.get("coding") or []
    for c in codings:
        if c.get("system") == t["atc_system"] and c.get("code"):
            out.append((c["code"].strip().upper(), "ATC code"))
    for c in codings:
        if c.get("system") == t["rxnorm_system"] and c.get("code"):
            ing = next((i for i in t["ingredients"] if i["rxcui"] == str(c["code"]).strip()), None)
            if ing:
                if ing["atc"]:
                    out.append((ing["atc"], f"RxNorm {ing['rxcui']} via project table"))
                out.append((ing["name"], f"RxNorm {ing['rxcui']} via project table"))
    texts = [concept.get("text")] + [c.get("display") for c in codings]
    for text in texts:
        if not text:
            continue
        low = text.strip().lower()
        out.append((low, "name in text"))
        for word in _WORD.findall(low):
            if len(word) >= 4:
                out.append((word, "name in text"))
    seen, uniq = set(), []
    for value, path in out:
        if value not in seen:
            seen.add(value)
            uniq.append((value, path))
    return uniq


def resolve_medication(concept: dict | None, resolver: DrugResolver | None) -> tuple[str, dict, str] | None:
    """(value for the payload, drug class dict, matching path) or None."""
    resolver = resolver or _default_resolver
    for value, path in medication_candidates(concept):
        try:
            cls = resolver(value)
        except Exception:  # a resolver must never break mapping  # noqa: BLE001
            cls = None
        if cls:
            return value, cls, path
    return None


def _med_concept(res: dict, medications: dict) -> dict | None:
    if res.get("medicationCodeableConcept"):
        return res["medicationCodeableConcept"]
    ref = (res.get("medicationReference") or {}).get("reference")
    if not ref:
        return None
    if ref.startswith("#"):
        for c in res.get("contained") or []:
            if c.get("resourceType") == "Medication" and c.get("id") == ref[1:]:
                return c.get("code")
        return None
    med = medications.get(ref) or next((m for k, m in medications.items() if k and ref.endswith(k)), None)
    return (med or {}).get("code")


def _map_medications(items: list[tuple[dict, str | None]], medications: dict,
                     resolver: DrugResolver | None, result: MappingResult) -> None:
    meds: list[str] = []
    for res, full_url in items:
        ref = _ref(res, full_url)
        rtype = res["resourceType"]
        if res.get("status") != "active":
            result.issue(ref, f"{rtype} with status {res.get('status')}; only active medications are used",
                         code="informational", severity="information")
            continue
        if rtype == "MedicationRequest" and res.get("intent") in NOT_AN_ORDER_INTENTS:
            result.issue(ref, f"MedicationRequest with intent {res.get('intent')} is not a current medication",
                         code="informational", severity="information")
            continue
        concept = _med_concept(res, medications)
        if concept is None:
            result.issue(ref, f"{rtype}: medication could not be read (Medication reference not in the data)",
                         code="incomplete")
            continue
        hit = resolve_medication(concept, resolver)
        if hit is None:
            result.issue(ref, f"{rtype} {codings_text(concept)}: not assessed (not in a drug class known "
                              "to affect insulin resistance, or not recognised)", code="not-supported",
                         severity="information")
            continue
        value, cls, path = hit
        if value not in meds:
            meds.append(value)
        result.sources.setdefault("medications", []).append(
            {"reference": ref, "value": value, "class": cls.get("id"), "matched_by": path})
        result.use(ref)
    if meds:
        result.payload["medications"] = meds
