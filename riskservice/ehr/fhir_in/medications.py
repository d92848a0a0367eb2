"""MedicationStatement / MedicationRequest -> the core's drug vocabulary (ATC, RxNorm, names)."""
from __future__ import annotations

import re
from typing import Callable

from .helpers import codings_text, reference_of
from .result import MappingResult
from .tables import tables

#: MedicationRequest intents that do not mean the patient is taking the drug.
NOT_AN_ORDER_INTENTS = {"proposal", "plan", "option", "directive"}

DrugResolver = Callable[[str], "dict | None"]

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


def medication_concept(res: dict, medications: dict) -> dict | None:
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


def map_medications(items: list[tuple[dict, str | None]], medications: dict,
                     resolver: DrugResolver | None, result: MappingResult) -> None:
    meds: list[str] = []
    for res, full_url in items:
        ref = reference_of(res, full_url)
        rtype = res["resourceType"]
        if res.get("status") != "active":
            result.issue(ref, f"{rtype} with status {res.get('status')}; only active medications are used",
                         code="informational", severity="information")
            continue
        if rtype == "MedicationRequest" and res.get("intent") in NOT_AN_ORDER_INTENTS:
            result.issue(ref, f"MedicationRequest with intent {res.get('intent')} is not a current medication",
                         code="informational", severity="information")
            continue
        concept = medication_concept(res, medications)
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
