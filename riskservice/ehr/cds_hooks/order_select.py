"""The order-select card: a selected drug from a class that worsens insulin resistance.

Reads the draft orders of the hook's context (validated as FHIR R4 before mapping) and names
the drug class, its mechanism and the patient's current band.
"""
from __future__ import annotations

import uuid
from typing import Callable

from riskservice.core import markdown

from .. import fhir_in
from ..fhir_out import BAND_LABEL, top_contributions
from .cards import SUMMARY_MAX
from .discovery import CdsError


def draft_medications(context: dict) -> list[dict]:
    """Selected draft MedicationRequests of an order-select call (all drafts if no selections).

    Every draft resource is validated as FHIR R4 first (fhir.resources): the mapping code below
    may then rely on the shapes (a ``medicationCodeableConcept`` that is a string is a 400)."""
    draft = context.get("draftOrders")
    if not isinstance(draft, dict) or draft.get("resourceType") != "Bundle":
        raise CdsError(400, "order-select context.draftOrders must be a Bundle")
    entries = draft.get("entry")
    if entries is not None and not isinstance(entries, list):
        raise CdsError(400, "context.draftOrders.entry must be an array")
    meds = []
    for i, entry in enumerate(entries or []):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise CdsError(400, f"context.draftOrders.entry[{i}].resource is not a FHIR resource")
        if res["resourceType"] in ("MedicationRequest", "Medication"):
            problem = fhir_in.validate_resource(res)
            if problem:
                raise CdsError(400, f"context.draftOrders.entry[{i}]: {problem}")
        if res["resourceType"] == "MedicationRequest":
            meds.append(res)
    selections = context.get("selections")
    if selections is not None and (not isinstance(selections, list)
                                   or not all(isinstance(x, str) for x in selections)):
        raise CdsError(400, "context.selections must be an array of references (strings)")
    if selections:
        wanted = set(selections)
        meds = [m for m in meds if f"MedicationRequest/{m.get('id')}" in wanted]
    return meds


def draft_concept(med: dict, medications: dict | None = None) -> dict | None:
    """The medication code of a draft MedicationRequest (inline, contained or in draftOrders)."""
    return fhir_in.medication_concept(med, medications or {})


def draft_order_medications(context: dict) -> dict:
    """Medication resources of draftOrders by reference (call after :func:`draft_medications`)."""
    draft = context.get("draftOrders") or {}
    return {f"Medication/{e['resource'].get('id')}": e["resource"] for e in draft.get("entry") or []
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "Medication"}


def order_select_cards(drafts: list[dict], resolver, response: dict | None, knowledge_url: str | None,
                       mechanism_name: Callable[[str], str] | None = None,
                       context_medications: dict | None = None) -> list[dict]:
    cards = []
    band = ((response or {}).get("rules") or {}).get("band")
    band_text = (f"{BAND_LABEL.get(band, band)} ({response['rules'].get('points')}/{response['rules'].get('max_points')})"
                 if band else "not available (too little data)")
    for med in drafts:
        concept = draft_concept(med, context_medications)
        hit = fhir_in.resolve_medication(concept, resolver)
        if not hit:
            continue
        value, cls, path = hit
        drug = (concept or {}).get("text") or next(
            (c.get("display") for c in (concept or {}).get("coding") or [] if c.get("display")), value)
        class_name = cls.get("name") or cls.get("id")
        mech_ids = cls.get("mechanisms") or []
        mech_names = [(mechanism_name(m) if mechanism_name else None) or str(m).replace("_", " ") for m in mech_ids]
        drug = drug.strip()
        summary = f"{drug[:1].upper() + drug[1:]} ({class_name}) can worsen insulin resistance; patient's band: {BAND_LABEL.get(band, band) if band else 'unknown'}"
        if len(summary) > SUMMARY_MAX:
            summary = f"{class_name} can worsen insulin resistance; band: {BAND_LABEL.get(band, band) if band else 'unknown'}"[:SUMMARY_MAX]
        # The drug as the EHR wrote it is text, never markdown (riskservice/core/markdown.py).
        lines = [f"- **Drug:** {markdown.text(drug)} (matched by {markdown.text(path)})", f"- **Class:** {class_name}",
                 "- **Mechanism:** " + (", ".join(mech_names) if mech_names else "see the knowledge base"),
                 f"- **Patient's current insulin-resistance band:** {band_text}"]
        if response:
            contribs = top_contributions(response, 3)
            if contribs:
                lines.append("- **Current main factors:** " + ", ".join(
                    f"{c.get('label') or c.get('factor')} +{c.get('points')}" for c in contribs))
            if (response.get("rules") or {}).get("lower_bound_statement"):
                lines.append(f"- {response['rules']['lower_bound_statement']}")
        lines += ["", "Consider the metabolic effect when choosing the drug and plan glucose / insulin follow-up.",
                  "", f"_{(response or {}).get('disclaimer') or 'Decision support only; not a diagnosis.'}_"]
        source = {"label": "riskservice insulin-resistance drug classes"}
        if knowledge_url:
            source["url"] = knowledge_url
        cards.append({"uuid": str(uuid.uuid4()), "summary": summary, "indicator": "warning",
                      "detail": "\n".join(lines), "source": source})
    return cards
