"""Prefetch completion: resources for every prefetch key, from prefetch or else from ``fhirServer``.

A key that is absent may be fetched with ``fhirAuthorization`` (allow-listed servers only, every
GET through :mod:`riskservice.ehr.outbound`); a key that is ``null`` means "no data" and is not
fetched again.
"""
from __future__ import annotations

import logging
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable

from .. import fhir_in, outbound
from .discovery import CdsError, prefetch_templates, render_template

log = logging.getLogger("riskservice.ehr.cds")


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
        allow = config["CDS_FHIR_SERVER_ALLOWLIST"] or ()
        if isinstance(allow, str):
            allow = [a for a in allow.split(",") if a.strip()]
        return cls(
            connect_timeout=float(config["CDS_FHIR_CONNECT_TIMEOUT"]),
            read_timeout=float(config["CDS_FHIR_READ_TIMEOUT"]),
            max_pages=int(config["CDS_FHIR_MAX_PAGES"]),
            allowed_servers=tuple(str(a).strip() for a in allow),
            max_bytes=int(config["CDS_FHIR_MAX_BYTES"]),
            budget=float(config["CDS_FHIR_TOTAL_SECONDS"]),
            ca_file=config["CDS_FHIR_CA_FILE"] or None,
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
