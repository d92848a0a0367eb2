"""FamilyMemberHistory -> family history of diabetes (closest degree of relative wins)."""
from __future__ import annotations

from .helpers import codings_text, reference_of
from .result import MappingResult
from .tables import first_match, tables

_DEGREE_RANK = {"none": 0, "second_degree": 1, "first_degree": 2}


def map_family(histories: list[tuple[dict, str | None]], result: MappingResult) -> None:
    t = tables().family
    rel_system = t["relationship_system"]
    groups = {name: set(spec["codes"]) for name, spec in t["relationships"].items()}
    for fmh, full_url in histories:
        ref = reference_of(fmh, full_url)
        if fmh.get("status") == "entered-in-error":
            result.issue(ref, "FamilyMemberHistory entered-in-error; ignored", code="informational",
                         severity="information")
            continue
        has_diabetes = any(first_match(t["diabetes_codes"], c.get("code")) for c in fmh.get("condition") or [])
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
