"""The patient-view card: risk band, top contributions and mechanisms, what data was missing.

Optional attributes are omitted rather than null/empty; ``{"cards": []}`` when there is nothing
useful to say; summary < 140 characters; unique card uuids.
"""
from __future__ import annotations

import uuid
from typing import Any, Callable

from riskservice.core import markdown

from .. import fhir_in
from ..fhir_out import BAND_LABEL, top_contributions, top_mechanisms
from .fetch import Collected

INDICATOR_BY_BAND = {"low": "info", "moderate": "info", "high": "warning", "very_high": "warning"}
SUMMARY_MAX = 139          # the spec says "fewer than 140 characters"


def has_minimum_data(payload: dict) -> tuple[bool, list[str]]:
    """Age, sex and one adiposity measure; below that a card would say nothing useful."""
    lacking = [f for f in ("age", "sex") if f not in payload]
    if not ("bmi" in payload or "waist" in payload or ("weight" in payload and "height" in payload)):
        lacking.append("adiposity (bmi, waist, or weight and height)")
    return not lacking, lacking


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _short_outcome(response: dict) -> str:
    """The outcome as the knowledge words it briefly ("HOMA-IR above 3.51 (75th percentile ...)")."""
    return str(((response.get("outcome") or {}).get("short_text")) or "HOMA-IR above the outcome's cut-off")


def summary_for(response: dict) -> str:
    """One line (< 140 characters) naming the outcome: the measured HOMA-IR when it leads, else
    the band as a likelihood of insulin resistance, worded as the knowledge words the outcome."""
    if response.get("applicable") is False:
        why = ", ".join(r.get("field", "").replace("_", " ") for r in response.get("not_applicable") or [])
        text = f"Insulin-resistance estimate does not apply ({why})"
        return text[:SUMMARY_MAX]
    measured = (response.get("measured") or {}).get("homa_ir") or {}
    rules = response.get("rules") or {}
    if (response.get("measured") or {}).get("leads"):
        text = (f"Measured HOMA-IR {_fmt(float(measured['value']))} ({measured.get('status')}): insulin resistance is "
                f"{_short_outcome(response)}")
    else:
        band = BAND_LABEL.get(rules.get("band"), str(rules.get("band")))
        text = (f"{band.capitalize()} likelihood of insulin resistance, {_short_outcome(response)}: "
                f"score {rules.get('points')}/{rules.get('max_points')}")
        model = response.get("model") or {}
        if model.get("probability") is not None and len(text) + 9 <= SUMMARY_MAX:
            text += f"; p={float(model['probability']):.2f}"
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1] + "…"


def _mechanism_names(response: dict) -> dict[str, str]:
    return {m.get("id"): m.get("name") or m.get("id") for m in response.get("mechanisms") or []}


class _NameLookup(dict):
    def __init__(self, known: dict, fallback: Callable[[str], str | None]):
        super().__init__(known)
        self._fallback = fallback

    def get(self, key, default=None):
        return super().get(key) or self._fallback(key) or default


def _head_lines(response: dict) -> list[str]:
    """What leads (a valid measured HOMA-IR, then what the risk factors predict; else the band,
    then why a measurement is not valid), then both probabilities or why each is withheld."""
    rules = response.get("rules") or {}
    outcome = (response.get("outcome") or {}).get("text") or "insulin resistance"
    band = (f"{BAND_LABEL.get(rules.get('band'), rules.get('band'))} likelihood of {outcome} "
            f"({rules.get('points')} of {rules.get('max_points')} points)")
    measured = response.get("measured") or {}
    homa = measured.get("homa_ir") or {}
    if measured.get("leads"):
        lines = [f"**Measured HOMA-IR:** {homa.get('text')}"]
        if measured.get("statement"):
            lines += ["", str(measured["statement"])]
        lines += ["", f"**What the risk factors predict:** {band}"]
    else:
        lines = [f"**Risk band:** {band}"]
        if homa:
            lines += ["", f"**Measured HOMA-IR:** {homa.get('text')}"]
    if rules.get("lower_bound_statement"):
        lines += ["", str(rules["lower_bound_statement"])]
    model = response.get("model") or {}
    if model.get("probability") is not None:
        lines += ["", f"**Model probability:** {float(model['probability']):.2f} (0-1 scale; "
                      f"{model.get('model_id')} {model.get('version')}) for: {model.get('outcome') or outcome}"]
    elif model.get("withheld"):
        lines += ["", f"**Model probability:** not shown: {model['withheld']}"]
    dys = response.get("dysglycaemia") or {}
    if dys.get("probability") is not None:
        lines += ["", f"**Dysglycaemia model:** {float(dys['probability']):.2f} (0-1 scale; "
                      f"{dys.get('model_id')} {dys.get('version')}) for: {dys.get('outcome')}"]
    elif dys.get("withheld"):
        lines += ["", f"**Dysglycaemia model:** not shown: {dys['withheld']}"]
    return lines


def detail_markdown(response: dict, mapping: fhir_in.MappingResult, collected: Collected | None = None,
                    mechanism_name: Callable[[str], str | None] | None = None) -> str:
    if response.get("applicable") is False:
        lines = ["**The insulin-resistance estimate does not apply:** "
                 + " ".join(str(r.get("reason")) for r in response.get("not_applicable") or [])]
        lines += ["", f"_{response.get('disclaimer') or 'Decision support only; not a diagnosis.'}_"]
        return "\n".join(lines)
    lines = _head_lines(response)
    names = _mechanism_names(response)
    if mechanism_name:
        names = _NameLookup(names, mechanism_name)
    contribs = top_contributions(response)
    if contribs:
        lines += ["", "**Top contributing factors**"]
        for c in contribs:
            mech = ", ".join(names.get(m, str(m).replace("_", " ")) for m in c.get("mechanisms") or [])
            lines.append(f"- {c.get('label') or c.get('factor')}: +{c.get('points')}" + (f" (via {mech})" if mech else ""))
    mechs = top_mechanisms(response)
    if mechs:
        lines += ["", "**Mechanisms**"]
        for m in mechs:
            lines.append(f"- {m.get('name') or m.get('id')}" + (f": {m['explanation']}" if m.get("explanation") else ""))
    indices = response.get("indices") or {}
    if indices:
        lines += ["", "**Indices**"]
        for key, idx in indices.items():
            if not isinstance(idx, dict) or idx.get("value") is None:
                continue
            flagged = idx.get("flagged", idx.get("elevated"))
            flag = " (flagged)" if flagged else ""
            cut = idx.get("cutoff")
            if isinstance(cut, dict) and cut.get("value") is not None:
                cut_text = f", cut-off {cut.get('comparison', '')} {_fmt(cut['value'])}".replace("  ", " ")
            elif isinstance(cut, (int, float)):
                cut_text = f", cut-off {_fmt(cut)}"
            else:
                cut_text = ""
            lines.append(f"- {idx.get('name') or key}: {_fmt(idx['value'])}{cut_text}{flag}")
    missing_factors = [m.get("label") or m.get("factor") for m in response.get("missing") or []
                       if m.get("kind", "factor") == "factor"]
    missing_indices = [m.get("name") or m.get("index") for m in response.get("missing") or []
                       if m.get("kind") == "index"]
    if missing_factors:
        lines += ["", "**Not available:** " + ", ".join(str(m) for m in missing_factors)]
    if missing_indices:
        lines += ["", "**Indices not computed (inputs missing):** " + ", ".join(str(m) for m in missing_indices)]
    if collected and collected.unavailable:
        lines += ["", "**Data the EHR did not supply:** " + ", ".join(collected.unavailable)]
    not_used = [i for i in mapping.unmapped if i.get("severity") in ("warning", "error")]
    if not_used:
        lines += ["", f"**Records not used:** {len(not_used)} (codes or units this service does not map)"]
    if mapping.assumptions:
        lines += ["", "**Assumed:** " + "; ".join(markdown.text(a) for a in mapping.assumptions)]
    lines += ["", f"_{response.get('disclaimer') or 'Decision support only; not a diagnosis.'}_"]
    return "\n".join(lines)


def source_for(response: dict, knowledge_url: str | None) -> dict:
    meta = response.get("meta") or {}
    src = {"label": f"riskservice insulin-resistance rules {meta.get('ruleset_version', '')}".strip()}
    if knowledge_url:
        src["url"] = knowledge_url
    return src


def patient_view_cards(response: dict, mapping: fhir_in.MappingResult, collected: Collected | None,
                       knowledge_url: str | None,
                       mechanism_name: Callable[[str], str | None] | None = None,
                       app_launch_url: str | None = None) -> list[dict]:
    band = (response.get("rules") or {}).get("band")
    card = {
        "uuid": str(uuid.uuid4()),
        "summary": summary_for(response),
        "indicator": INDICATOR_BY_BAND.get(band, "info"),
        "detail": detail_markdown(response, mapping, collected, mechanism_name),
        "source": source_for(response, knowledge_url),
    }
    if app_launch_url:
        card["links"] = [smart_link(app_launch_url)]
    cards = [card]
    if response.get("diabetes_range"):
        # first, and critical: a value meets a diagnostic threshold and needs confirmation
        warning = next((w for w in response.get("warnings") or [] if w.get("code") == "diabetes_range"), {})
        cards.insert(0, {
            "uuid": str(uuid.uuid4()),
            "summary": ("Fasting glucose and HbA1c both in the diabetes range: assess for diabetes"
                        if warning.get("confirmed") else "Glucose or HbA1c in the diabetes range: confirm the diagnosis"),
            "indicator": "critical",
            "detail": warning.get("message", ""),
            "source": source_for(response, knowledge_url),
        })
    return cards


def smart_link(app_launch_url: str) -> dict:
    """A card link of type ``smart``: the EHR launches the clinician's page (SMART App Launch)
    with ``iss`` and ``launch`` for this patient."""
    return {"label": "Open the insulin-resistance risk page", "url": app_launch_url, "type": "smart"}
