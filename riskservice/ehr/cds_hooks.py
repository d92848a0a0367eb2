"""CDS Hooks 2.0: discovery document, prefetch completion and card building.

Framework-free: the Flask blueprint passes in a ``score`` callable (the core), a drug-class
resolver and configuration. Rules followed (HL7 CDS Hooks 2.0.1, see shared/domain/ehr-facts.md
section 1): optional attributes are omitted rather than null/empty; ``{"cards": []}`` when there
is nothing useful to say; summary < 140 characters; unique card uuids; a prefetch key that is
absent may be fetched from ``fhirServer`` with ``fhirAuthorization``, a key that is ``null``
means "no data" and is not fetched again; 412 when the patient itself cannot be obtained.
"""
from __future__ import annotations

import json
import logging
import re
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import date
from importlib import resources as importlib_resources
from typing import Any, Callable

from . import fhir_in, outbound
from .fhir_out import BAND_LABEL, top_contributions, top_mechanisms

log = logging.getLogger("riskservice.ehr.cds")

PATIENT_VIEW_ID = "ir-risk"
ORDER_SELECT_ID = "ir-risk-order-select"

INDICATOR_BY_BAND = {"low": "info", "moderate": "info", "high": "warning", "very_high": "warning"}
SUMMARY_MAX = 139          # the spec says "fewer than 140 characters"


class CdsError(Exception):
    """A hook call that must be answered with an HTTP error (status + short, PHI-free reason)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


# --------------------------------------------------------------------------------------------
# Discovery
# --------------------------------------------------------------------------------------------

def _code_param(codes: list[str]) -> str:
    return ",".join(f"http://loinc.org|{c}" for c in codes)


def prefetch_templates() -> dict[str, str]:
    """R4 search syntax; the Observation code lists come from mapping/observations.json."""
    t = fhir_in.tables()
    pid = "{{context.patientId}}"
    return {
        "patient": f"Patient/{pid}",
        "anthropometry": (f"Observation?patient={pid}&code={_code_param(t.loinc_codes(['anthropometry', 'lifestyle']))}"
                          "&_sort=-date&_count=100"),
        "labs": f"Observation?patient={pid}&code={_code_param(t.loinc_codes(['lab']))}&_sort=-date&_count=200",
        "conditions": f"Condition?patient={pid}",
        "medicationRequests": f"MedicationRequest?patient={pid}&status=active",
        "medicationStatements": f"MedicationStatement?patient={pid}&status=active",
        "familyHistory": f"FamilyMemberHistory?patient={pid}",
    }


def discovery() -> dict:
    prefetch = prefetch_templates()
    return {"services": [
        {"hook": "patient-view", "id": PATIENT_VIEW_ID, "title": "Insulin resistance risk",
         "description": ("Scores the likelihood of insulin resistance from adiposity, activity, medications, "
                         "family history, conditions, inflammatory markers and optional labs, and explains "
                         "the mechanisms involved. Decision support, not a diagnosis."),
         "prefetch": prefetch,
         "usageRequirements": "Needs the patient's birth date and administrative gender and at least one "
                              "adiposity measure (BMI, weight and height, or waist)."},
        {"hook": "order-select", "id": ORDER_SELECT_ID,
         "title": "Drugs that worsen insulin resistance",
         "description": ("Warns when a drug from a class that worsens insulin resistance (e.g. systemic "
                         "glucocorticoids, atypical antipsychotics, thiazides) is selected, naming the class, "
                         "its mechanism and the patient's current risk band."),
         "prefetch": prefetch},
    ]}


SERVICES = {PATIENT_VIEW_ID: "patient-view", ORDER_SELECT_ID: "order-select"}

_TOKEN = re.compile(r"\{\{\s*([A-Za-z.]+)\s*\}\}")


def render_template(template: str, context: dict) -> str:
    """Replace ``{{context.x}}`` tokens (first-level primitive context fields only)."""
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if not name.startswith("context."):
            raise CdsError(400, f"unsupported prefetch token {name}")
        value = context.get(name.split(".", 1)[1])
        if not isinstance(value, (str, int)) or value == "":
            raise CdsError(400, f"context field for token {name} is missing")
        return urllib.parse.quote(str(value), safe="")
    return _TOKEN.sub(sub, template)


# --------------------------------------------------------------------------------------------
# FHIR server access (when prefetch is incomplete)
# --------------------------------------------------------------------------------------------

@dataclass
class FetchSettings:
    """How missing prefetch data may be fetched; every GET goes through :mod:`.outbound`."""

    connect_timeout: float = 2.0
    read_timeout: float = 5.0           # total deadline of one GET (connect to last byte)
    max_pages: int = 5
    allowed_servers: tuple[str, ...] = ()   # base URLs; empty: nothing is fetched (prefetch only)
    max_bytes: int = 5 * 1024 * 1024    # per response
    budget: float = 10.0                # seconds for all GETs of one hook call together
    ca_file: str | None = None          # extra CA bundle for the FHIR server's certificate

    @classmethod
    def from_config(cls, config: dict) -> "FetchSettings":
        allow = config.get("CDS_FHIR_SERVER_ALLOWLIST") or ()
        if isinstance(allow, str):
            allow = [a for a in allow.split(",") if a.strip()]
        return cls(
            connect_timeout=float(config.get("CDS_FHIR_CONNECT_TIMEOUT", 2.0)),
            read_timeout=float(config.get("CDS_FHIR_READ_TIMEOUT", 5.0)),
            max_pages=int(config.get("CDS_FHIR_MAX_PAGES", 5)),
            allowed_servers=tuple(str(a).strip() for a in allow),
            max_bytes=int(config.get("CDS_FHIR_MAX_BYTES", 5 * 1024 * 1024)),
            budget=float(config.get("CDS_FHIR_TOTAL_SECONDS", 10.0)),
            ca_file=config.get("CDS_FHIR_CA_FILE") or None,
        )


class FhirFetchError(Exception):
    """One query failed. ``unreachable`` means the server itself could not be reached (connection
    error or timeout): the remaining queries of this call are then skipped, not tried one by one."""

    def __init__(self, reason: str, unreachable: bool = False):
        super().__init__(reason)
        self.unreachable = unreachable


def server_problem(base_url, settings: FetchSettings) -> str | None:
    """Why ``fhirServer`` cannot be used (None when it can). The caller's token goes only to an
    allow-listed server, so without ``CDS_FHIR_SERVER_ALLOWLIST`` nothing is fetched."""
    if not isinstance(base_url, str):
        return "fhirServer is not a string"
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        return "fhirServer is not an absolute http(s) URL"
    if not outbound.is_allowlisted(base_url, settings.allowed_servers):
        return "fhirServer is not allow-listed"
    return None


class FhirClient:
    """One GET per query (no retries), bounded paging that never leaves the server's base URL.

    Every GET goes through :func:`outbound.get` (address policy, total deadline, size cap) and the
    whole client shares ``settings.budget`` seconds."""

    def __init__(self, base_url: str, access_token: str, settings: FetchSettings):
        problem = server_problem(base_url, settings)
        if problem:
            raise CdsError(400, problem)
        self.base = base_url.rstrip("/") + "/"
        self.settings = settings
        self._headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/fhir+json"}
        self._ends = time.monotonic() + settings.budget

    def close(self) -> None:
        pass

    def _get(self, url: str) -> dict:
        left = self._ends - time.monotonic()
        if left <= 0:
            raise FhirFetchError("time budget for fhirServer used up", unreachable=True)
        policy = outbound.Policy(allowlist=self.settings.allowed_servers, deadline=min(self.settings.read_timeout, left),
                                 connect_timeout=self.settings.connect_timeout, max_bytes=self.settings.max_bytes,
                                 ca_file=self.settings.ca_file)
        try:
            resp = outbound.get(url, policy=policy, headers=self._headers, credentials=True)
        except outbound.OutboundDenied as exc:
            raise FhirFetchError(str(exc), unreachable=True) from None
        except outbound.OutboundError as exc:
            raise FhirFetchError(str(exc), unreachable=exc.unreachable) from None
        if resp.status != 200:
            raise FhirFetchError(f"HTTP {resp.status}")
        try:
            body = resp.json()
        except ValueError:
            raise FhirFetchError("response is not JSON") from None
        if not isinstance(body, dict) or "resourceType" not in body:
            raise FhirFetchError("response is not a FHIR resource")
        return body

    def fetch(self, relative: str) -> dict:
        body = self._get(urllib.parse.urljoin(self.base, relative))
        if body.get("resourceType") != "Bundle":
            return body
        entries = _entries(body)
        pages = 1
        nxt = _next_link(body)
        while nxt and pages < self.settings.max_pages:
            if not nxt.startswith(self.base):
                log.warning("cds fetch: next link outside fhirServer ignored")
                break
            page = self._get(nxt)
            entries.extend(_entries(page))
            pages += 1
            nxt = _next_link(page)
        body = dict(body, entry=entries)
        body.pop("link", None)
        return body


def _entries(bundle: dict) -> list:
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise FhirFetchError("Bundle.entry is not an array")
    return list(entries)


def _next_link(bundle: dict) -> str | None:
    links = bundle.get("link")
    for link in links if isinstance(links, list) else ():
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return link["url"]
    return None


@dataclass
class Collected:
    items: list = field(default_factory=list)          # (resource, fullUrl)
    used_prefetch: list = field(default_factory=list)
    fetched: list = field(default_factory=list)
    unavailable: list = field(default_factory=list)    # keys we could not get
    patient_found: bool = False


def collect(body: dict, settings: FetchSettings, client_factory: Callable[..., FhirClient] = FhirClient) -> Collected:
    """Resources for every prefetch key: from prefetch, else from the FHIR server."""
    context = body.get("context") or {}
    prefetch = body.get("prefetch") if isinstance(body.get("prefetch"), dict) else {}
    templates = prefetch_templates()
    out = Collected()
    missing = []
    for key in templates:
        if key in prefetch:
            value = prefetch[key]
            if value is None:                              # "no data" per spec
                out.used_prefetch.append(key)
                continue
            if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
                missing.append(key)                        # the EHR could not run this query
                continue
            if not isinstance(value, dict) or "resourceType" not in value:
                raise CdsError(400, f"prefetch.{key} is not a FHIR resource")
            try:
                _add(out, value)
            except fhir_in.BundleError as exc:
                raise CdsError(400, f"prefetch.{key}: {exc}") from None
            out.used_prefetch.append(key)
        else:
            missing.append(key)
    if missing:
        server = body.get("fhirServer")
        auth = body.get("fhirAuthorization") or {}
        if server is not None and not isinstance(server, str):
            raise CdsError(400, "fhirServer must be a URL string")
        if not isinstance(auth, dict):
            raise CdsError(400, "fhirAuthorization must be an object")
        token = auth.get("access_token")
        if token is not None and not isinstance(token, str):
            raise CdsError(400, "fhirAuthorization.access_token must be a string")
        refused = server_problem(server, settings) if server and token else None
        if refused:
            # Never an error for the EHR: the card says which data it lacks; no byte is sent.
            log.warning("cds fetch: %s; %d prefetch keys unavailable", refused, len(missing))
            out.unavailable.extend(missing)
        elif server and token:
            client = client_factory(server, token, settings)
            try:
                for i, key in enumerate(missing):
                    try:
                        _add(out, client.fetch(render_template(templates[key], context)))
                        out.fetched.append(key)
                    except (FhirFetchError, fhir_in.BundleError) as exc:
                        log.warning("cds fetch failed for prefetch key %s: %s", key, exc)
                        out.unavailable.append(key)
                        if getattr(exc, "unreachable", False):
                            out.unavailable.extend(missing[i + 1:])
                            log.warning("cds fetch: fhirServer unreachable; %d further queries skipped",
                                        len(missing) - i - 1)
                            break
            finally:
                client.close()
        else:
            out.unavailable.extend(missing)
    patients = [r for r, _ in out.items if r.get("resourceType") == "Patient"]
    out.patient_found = bool(patients)
    if any(p.get("id") and p["id"] != str(context.get("patientId")) for p in patients):
        raise CdsError(400, "the Patient in the data is not context.patientId")
    return out


def _add(out: Collected, value: dict) -> None:
    if value.get("resourceType") == "Bundle":
        for res, url in fhir_in.resources_from_bundle(dict(value, type=value.get("type") or "searchset")):
            if res.get("resourceType") != "OperationOutcome" or not _is_search_info(res):
                out.items.append((res, url))
    else:
        out.items.append((value, None))


def _is_search_info(outcome: dict) -> bool:
    return all(i.get("severity") in ("information", "warning") for i in outcome.get("issue") or [])


# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------

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


def summary_for(response: dict) -> str:
    rules = response.get("rules") or {}
    band = BAND_LABEL.get(rules.get("band"), str(rules.get("band")))
    text = f"{band.capitalize()} likelihood of insulin resistance (score {rules.get('points')}/{rules.get('max_points')}"
    model = response.get("model") or {}
    if model.get("probability") is not None:
        text += f"; model p={float(model['probability']):.2f}"
        short = str(model.get("outcome") or "").split(":")[0].strip().lower()
        if short and len(text) + len(short) + 6 <= SUMMARY_MAX:
            text += f" for {short}"
    text += ")"
    return text if len(text) <= SUMMARY_MAX else text[:SUMMARY_MAX - 1] + "…"


def _mechanism_names(response: dict) -> dict[str, str]:
    return {m.get("id"): m.get("name") or m.get("id") for m in response.get("mechanisms") or []}


class _NameLookup(dict):
    def __init__(self, known: dict, fallback: Callable[[str], str | None]):
        super().__init__(known)
        self._fallback = fallback

    def get(self, key, default=None):
        return super().get(key) or self._fallback(key) or default


def detail_markdown(response: dict, mapping: fhir_in.MappingResult, collected: Collected | None = None,
                    mechanism_name: Callable[[str], str | None] | None = None) -> str:
    rules = response.get("rules") or {}
    lines = [f"**Risk band:** {BAND_LABEL.get(rules.get('band'), rules.get('band'))} "
             f"({rules.get('points')} of {rules.get('max_points')} points)"]
    if rules.get("lower_bound_statement"):
        lines += ["", str(rules["lower_bound_statement"])]
    model = response.get("model") or {}
    if model.get("probability") is not None:
        lines += ["", f"**Model probability:** {float(model['probability']):.2f} (0-1 scale; "
                      f"{model.get('model_id')} {model.get('version')}) for: {model.get('outcome') or 'the model outcome'}"]
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
        lines += ["", "**Assumed:** " + "; ".join(mapping.assumptions)]
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
            "summary": "Glucose or HbA1c in the diabetes range: confirm the diagnosis",
            "indicator": "critical",
            "detail": warning.get("message", ""),
            "source": source_for(response, knowledge_url),
        })
    return cards


def smart_link(app_launch_url: str) -> dict:
    """A card link of type ``smart``: the EHR launches the clinician's page (SMART App Launch)
    with ``iss`` and ``launch`` for this patient."""
    return {"label": "Open the insulin-resistance risk page", "url": app_launch_url, "type": "smart"}


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
        lines = [f"- **Drug:** {drug} (matched by {path})", f"- **Class:** {class_name}",
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


# --------------------------------------------------------------------------------------------
# Checks the JSON Schema cannot express
# --------------------------------------------------------------------------------------------

def _schema() -> dict:
    ref = importlib_resources.files("riskservice.ehr").joinpath("cds-hooks-2.0-response.schema.json")
    return json.loads(ref.read_text(encoding="utf-8"))


def response_problems(body: dict) -> list[str]:
    """Schema (shared contract, copied into the package) + extra rules: unique card uuids,
    cds-resp-1 (at most one recommended suggestion with at-most-one), no nulls anywhere."""
    import jsonschema
    problems = [e.message for e in jsonschema.Draft202012Validator(_schema()).iter_errors(body)]
    uuids = [c.get("uuid") for c in body.get("cards") or [] if isinstance(c, dict) and c.get("uuid")]
    if len(uuids) != len(set(uuids)):
        problems.append("card uuids are not unique")
    for c in body.get("cards") or []:
        if c.get("selectionBehavior") == "at-most-one" and \
                sum(1 for s in c.get("suggestions") or [] if s.get("isRecommended")) > 1:
            problems.append("cds-resp-1: more than one recommended suggestion with at-most-one")
        if len(c.get("summary", "")) >= 140:
            problems.append("summary must be fewer than 140 characters")

    def walk(x, path="$"):
        if x is None:
            problems.append(f"null at {path}")
        elif isinstance(x, dict):
            for k, v in x.items():
                walk(v, f"{path}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, f"{path}[{i}]")
    walk(body)
    return problems


def as_of_from(body: dict, today: date | None = None) -> date:
    """CDS calls are 'now'; an explicit extension value is accepted for testing/back-scoring."""
    ext = body.get("extension") if isinstance(body.get("extension"), dict) else {}
    return fhir_in.parse_as_of(ext.get("org.riskservice.as_of"), today)
