"""Conditions -> yes/no history inputs (and a family history recorded as a situation)."""
from __future__ import annotations

from .helpers import codings_text, reference_of
from .result import MappingResult
from .tables import first_match, tables


def _status_code(concept: dict | None) -> str | None:
    for c in (concept or {}).get("coding") or []:
        if c.get("code"):
            return c["code"]
    return None


def map_conditions(conditions: list[tuple[dict, str | None]], result: MappingResult) -> None:
    t = tables().conditions
    excluded = set(t["excluded_verification_status"])
    fh = t["family_history_situation"]
    for cond, full_url in conditions:
        ref = reference_of(cond, full_url)
        code = cond.get("code")
        verification = _status_code(cond.get("verificationStatus"))
        if verification in excluded:
            result.issue(ref, f"Condition with verificationStatus {verification}; ignored",
                         code="informational", severity="information")
            continue
        matched = False
        for spec in t["fields"]:
            if first_match(spec["codes"], code):
                result.payload[spec["field"]] = True
                result.sources.setdefault(spec["field"], {"reference": ref, "element": "Condition.code"})
                result.use(ref)
                matched = True
                break
        if matched:
            continue
        if first_match(fh["codes"], code):
            if "family_history_diabetes" not in result.payload:
                result.payload["family_history_diabetes"] = fh["maps_to"]
                result.sources["family_history_diabetes"] = {"reference": ref, "element": "Condition.code"}
                note = ("family history of diabetes recorded without the relative; counted as "
                        f"{fh['maps_to'].replace('_', '-')}")
                if note not in result.assumptions:
                    result.assumptions.append(note)
            result.use(ref)
            continue
        skip = first_match(t["recognised_not_used"], code)
        reason = skip["reason"] if skip else "code not in the mapping table"
        result.issue(ref, f"Condition {codings_text(code)}: {reason}")
