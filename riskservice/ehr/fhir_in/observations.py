"""Observations -> measurements: the most recent usable value per input inside its look-back window."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .helpers import codings_text, parse_fhir_datetime, reference_of
from .result import Lookback, MappingResult
from .tables import UCUM, first_match, tables

#: Observation statuses that carry no usable result.
IGNORED_OBSERVATION_STATUS = {"entered-in-error", "cancelled", "registered"}
#: Preference among same-time duplicates (higher wins).
STATUS_RANK = {"corrected": 3, "amended": 3, "final": 2, "preliminary": 1, "unknown": 0}


def _effective(obs: dict) -> datetime | None:
    for key in ("effectiveDateTime", "effectiveInstant"):
        if obs.get(key):
            return parse_fhir_datetime(obs[key])
    period = obs.get("effectivePeriod") or {}
    if period.get("end") or period.get("start"):
        return parse_fhir_datetime(period.get("end") or period.get("start"))
    return parse_fhir_datetime(obs.get("issued"))


def map_observations(observations: list[tuple[dict, str | None]], as_of: date, lookback: Lookback,
                      result: MappingResult) -> None:
    t = tables()
    ignored = t.observations["recognised_not_used"]
    candidates: dict[str, list[tuple]] = {}
    as_of_end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=timezone.utc) + timedelta(days=1)
    for obs, full_url in observations:
        ref = reference_of(obs, full_url)
        code = obs.get("code") or {}
        concept = next((t.observation_concept(c) for c in code.get("coding") or []
                        if t.observation_concept(c)), None)
        if concept is None:
            skip = first_match(ignored, code)
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
        ref = reference_of(obs, full_url)
        vq = obs["valueQuantity"]
        result.payload[fld] = vq["value"]
        if concept["unit_field"]:
            result.payload[concept["unit_field"]] = concept["units"][vq["code"]]
        code_used = first_match(concept["codes"], obs.get("code"))
        result.sources[fld] = {"reference": ref, "code": code_used["code"] if code_used else None,
                               "effective": when.isoformat()}
        result.use(ref)
        for other in items[1:]:
            oref = reference_of(other[4], other[6])
            same_time = other[0] == when
            ovq = other[4]["valueQuantity"]
            differs = (float(ovq["value"]), ovq.get("code")) != (float(vq["value"]), vq.get("code"))
            if same_time and differs:
                result.issue(oref, f"conflicting {fld} values at the same time; used {ref} "
                                   "(status, then last update decide)", code="conflict")
            else:
                result.issue(oref, f"older {fld} Observation; the most recent ({ref}) was used",
                             code="informational", severity="information")
