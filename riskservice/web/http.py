"""The web package's only outbound HTTP call, so one place enforces the rules.

Every request the SMART launch makes (discovery, token exchange, FHIR reads) goes through
:func:`call`: the URL must be on the allow-list (the origins of ``SMART_ISSUERS`` plus
``SMART_AUTH_ORIGINS``), plain http only for loopback hosts, then the service's one outbound
mechanism, :mod:`riskservice.ehr.outbound` (address policy, one total deadline of ``SMART_TIMEOUT``
seconds, a size cap, no redirects).
Nothing here logs URLs, bodies or tokens.
"""
from __future__ import annotations

import urllib.parse

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BYTES = 8 * 1024 * 1024


class OutboundError(Exception):
    """A call was refused by the rules or failed; ``reason`` is safe to show and log."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_url(url: str, allowed_origins) -> None:
    """Refuse a URL that is not absolute http(s), not allow-listed, or http to a non-loopback host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OutboundError("not an absolute http(s) URL")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise OutboundError("plain http is allowed only to this machine")
    if origin(url) not in {o.rstrip("/").lower() for o in allowed_origins}:
        raise OutboundError("host is not on the SMART allow-list")


def call(method: str, url: str, *, allowed_origins, timeout: float, headers=None, data=None) -> dict:
    """One request through :mod:`riskservice.ehr.outbound` (the service's one outbound mechanism:
    address policy, credentials only to allow-listed servers, one total deadline, a size cap,
    no redirects); a JSON object back, OutboundError on any refusal or failure."""
    from riskservice.ehr import outbound

    check_url(url, allowed_origins)
    policy = outbound.Policy(allowlist=tuple(allowed_origins), deadline=timeout,
                             connect_timeout=min(3.0, timeout), max_bytes=MAX_BYTES)
    body = urllib.parse.urlencode(data).encode() if isinstance(data, dict) else data
    send = dict(headers or {})
    if body is not None:
        send.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        resp = outbound.request(method, url, policy=policy, headers=send, body=body, credentials=True)
    except outbound.OutboundDenied as exc:
        raise OutboundError(f"refused: {exc}") from None
    except outbound.OutboundError as exc:
        if exc.unreachable:
            raise OutboundError("the EHR did not answer before the deadline or could not be reached") from None
        raise OutboundError("the EHR's answer was refused (too large or broken)") from None
    if resp.status != 200:
        raise OutboundError(f"the EHR answered HTTP {resp.status}")
    try:
        parsed = resp.json()
    except ValueError:
        raise OutboundError("the EHR's answer is not JSON") from None
    if not isinstance(parsed, dict):
        raise OutboundError("the EHR's answer is not a JSON object")
    return parsed
