"""SMART App Launch 2.x client: discovery, authorization code with PKCE, token exchange and
the FHIR reads, then the same FHIR mapping ``/v1/fhir/score`` uses.

authlib builds and checks the OAuth 2.0 messages (grant URI, S256 challenge, state check);
every request goes through :func:`riskservice.web.http.call` (allow-list and deadline). The
access token lives only for the duration of the callback request: never stored or logged.
"""
from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from datetime import date

from authlib.common.security import generate_token
from authlib.oauth2.base import OAuth2Error
from authlib.oauth2.rfc6749 import parameters
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from riskservice.ehr import fhir_in
from riskservice.web.http import OutboundError, call, check_url, origin

RESOURCES = ("Observation", "MedicationRequest", "MedicationStatement", "Condition", "FamilyMemberHistory")
MAX_PAGES = 5


class LaunchError(Exception):
    """The launch cannot go on; ``reason`` is shown to the user (no tokens, no patient data)."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Settings:
    issuers: tuple
    auth_origins: tuple
    client_id: str
    scopes: str
    timeout: float
    deadline: float | None = None   # monotonic time by which every call of this request must be done

    @classmethod
    def from_config(cls, config) -> Settings:
        """The settings of one request; all its calls together end by ``SMART_TOTAL_SECONDS`` (a FHIR
        server answering each page after 9 s with an endless ``next`` held a callback for 234 s:
        issue 22, finding 9)."""
        return cls(issuers=_split(config["SMART_ISSUERS"]),
                   auth_origins=_split(config["SMART_AUTH_ORIGINS"]),
                   client_id=str(config["SMART_CLIENT_ID"]),
                   scopes=str(config["SMART_SCOPES"] or ""),
                   timeout=float(config["SMART_TIMEOUT"]),
                   deadline=time.monotonic() + float(config["SMART_TOTAL_SECONDS"]))

    @property
    def allowed_origins(self) -> set:
        return {origin(i) for i in self.issuers} | {o.rstrip("/").lower() for o in self.auth_origins}


def _split(value) -> tuple:
    if not value:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(v.strip().rstrip("/") for v in value if v and v.strip())


def _call(settings: Settings, method: str, url: str, **kw) -> dict:
    timeout = settings.timeout
    if settings.deadline is not None:
        left = settings.deadline - time.monotonic()
        if left <= 0.05:
            raise LaunchError("The EHR took too long: the launch gave up after its time budget "
                              "(RISKSERVICE_SMART_TOTAL_SECONDS); try again.", 504)
        timeout = min(timeout, left)
    try:
        return call(method, url, allowed_origins=settings.allowed_origins, timeout=timeout, **kw)
    except OutboundError as exc:
        raise LaunchError(exc.reason, 502) from None


def check_issuer(settings: Settings, iss: str) -> str:
    iss = (iss or "").strip().rstrip("/")
    if not settings.issuers:
        raise LaunchError("No EHR is connected to this service: an administrator sets SMART_ISSUERS to the FHIR "
                          "base URLs allowed to open it.")
    if iss not in settings.issuers:
        raise LaunchError("This EHR is not on the allow-list of this service.")
    return iss


def discover(settings: Settings, iss: str) -> dict:
    """GET {iss}/.well-known/smart-configuration; checks it offers the code flow with S256."""
    config = _call(settings, "GET", f"{iss}/.well-known/smart-configuration",
                   headers={"Accept": "application/json"})
    for key in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(config.get(key), str):
            raise LaunchError(f"The EHR's SMART configuration has no {key}.", 502)
        try:
            check_url(config[key], settings.allowed_origins)
        except OutboundError as exc:
            raise LaunchError(f"The EHR's {key} is refused: {exc.reason}.", 502) from None
    methods = config.get("code_challenge_methods_supported")
    if methods is not None and "S256" not in methods:
        raise LaunchError("The EHR does not support PKCE with S256.", 502)
    return config


def begin(settings: Settings, iss: str, launch: str | None, redirect_uri: str) -> tuple[str, dict]:
    """The authorization URL to send the browser to, and what to keep for the callback."""
    iss = check_issuer(settings, iss)
    config = discover(settings, iss)
    state, verifier = generate_token(32), generate_token(64)
    scope = settings.scopes + (" launch" if launch else " launch/patient")
    extra = {"aud": iss, "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"}
    if launch:
        extra["launch"] = launch
    url = parameters.prepare_grant_uri(config["authorization_endpoint"], settings.client_id, "code",
                                       redirect_uri=redirect_uri, scope=scope.strip(), state=state, **extra)
    keep = {"state": state, "verifier": verifier, "iss": iss, "token_endpoint": config["token_endpoint"],
            "redirect_uri": redirect_uri}
    return url, keep


def exchange(settings: Settings, kept: dict, callback_url: str) -> dict:
    """Check the callback (state, code), swap the code and verifier for a token."""
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback_url).query))
    if "error" in query:
        raise LaunchError(f"The EHR refused the authorization: {query['error'][:80]}.")
    try:
        params = parameters.parse_authorization_code_response(callback_url, state=kept["state"])
    except OAuth2Error as exc:  # authlib's MismatchingState / MissingCode errors
        raise LaunchError(f"The authorization answer is not valid ({type(exc).__name__}).") from None
    body = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": kept["redirect_uri"],
            "client_id": settings.client_id, "code_verifier": kept["verifier"]}
    token = _call(settings, "POST", kept["token_endpoint"], data=body, headers={"Accept": "application/json"})
    if not token.get("access_token") or str(token.get("token_type", "")).lower() != "bearer":
        raise LaunchError("The EHR's token answer has no bearer access token.", 502)
    if not token.get("patient"):
        raise LaunchError("The EHR did not say which patient is in context.", 502)
    return token


def read_patient(settings: Settings, iss: str, token: dict) -> tuple[list[tuple[dict, str | None]], list[str]]:
    """Patient plus its Observation, MedicationRequest/-Statement, Condition and FamilyMemberHistory,
    and a note for each search that had more pages than this app reads (never dropped silently)."""
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/fhir+json"}
    base = iss + "/"
    pid = urllib.parse.quote(str(token["patient"]), safe="")
    patient = _call(settings, "GET", f"{base}Patient/{pid}", headers=headers)
    if patient.get("resourceType") != "Patient":
        raise LaunchError("The EHR did not return the Patient resource.", 502)
    items = [(patient, f"{base}Patient/{pid}")]
    notes = []
    for rtype in RESOURCES:
        # newest first where the server sorts, so a cut at MAX_PAGES keeps the recent ones
        sort = "&_sort=-date" if rtype == "Observation" else ""
        url, pages = f"{base}{rtype}?patient={pid}&_count=200{sort}", 0
        while url and pages < MAX_PAGES:
            bundle = _call(settings, "GET", url, headers=headers)
            if bundle.get("resourceType") != "Bundle":
                raise LaunchError(f"The EHR's {rtype} search did not return a Bundle.", 502)
            try:
                items.extend(fhir_in.resources_from_bundle(dict(bundle, type="searchset")))
            except fhir_in.BundleError as exc:
                raise LaunchError(f"The EHR's {rtype} search is not usable: {exc}.", 502) from None
            pages += 1
            url = _next(bundle, base)
        if url:
            notes.append(f"The EHR has more {rtype} records than the {MAX_PAGES} pages this app reads; "
                         "the rest were not read.")
    return items, notes


def _next(bundle: dict, base: str) -> str | None:
    for link in bundle.get("link") or []:
        if link.get("relation") == "next" and str(link.get("url", "")).startswith(base):
            return link["url"]
    return None


def as_of(config) -> date:
    return fhir_in.parse_as_of(config["SMART_AS_OF"])
