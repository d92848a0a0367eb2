"""The web package's only outbound HTTP call, so one place enforces the rules.

Every request the SMART launch makes (discovery, token exchange, FHIR reads) goes through
:func:`call`: the URL must be on the allow-list (the origins of ``SMART_ISSUERS`` plus
``SMART_AUTH_ORIGINS``), plain http only for loopback hosts, no redirects followed, and one
deadline (``SMART_TIMEOUT`` seconds) bounds connect plus read (a stalled socket read can add one
more ``SMART_TIMEOUT``). When the shared
``riskservice.ehr.outbound`` module lands, this function is the one line to switch.
Nothing here logs URLs, bodies or tokens.
"""
from __future__ import annotations

import json
import time
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
    """One request, no redirects, JSON object back; OutboundError on any refusal or failure."""
    import requests  # imported on first use: it costs ~60 ms of every cold start otherwise
    import urllib3

    check_url(url, allowed_origins)
    deadline = time.monotonic() + timeout
    try:
        resp = requests.request(method, url, headers=headers, data=data, timeout=(timeout, timeout),
                                allow_redirects=False, stream=True)
        try:
            body = _read(resp, deadline)
        finally:
            resp.close()
    except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise OutboundError("the EHR did not answer before the deadline") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise OutboundError(f"the EHR could not be reached ({type(exc).__name__})") from None
    if len(body) > MAX_BYTES:
        raise OutboundError("the EHR's answer is too large")
    if resp.status_code != 200:
        raise OutboundError(f"the EHR answered HTTP {resp.status_code}")
    try:
        parsed = json.loads(body)
    except ValueError:
        raise OutboundError("the EHR's answer is not JSON") from None
    if not isinstance(parsed, dict):
        raise OutboundError("the EHR's answer is not a JSON object")
    return parsed


def _read(resp, deadline: float) -> bytes:
    """The body, stopping at MAX_BYTES or at the deadline. ``read1`` returns whatever has
    arrived, so a server that drips bytes is cut off at the deadline (plus at most one socket
    wait of ``timeout``), not only when it finally closes."""
    import requests

    chunks, size = [], 0
    while True:
        chunk = resp.raw.read1(64 * 1024, decode_content=True)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BYTES:
            break
        if time.monotonic() > deadline:
            raise requests.Timeout()
    return b"".join(chunks)
