"""Security headers on every response and CORS for an allow-list of browser origins.

CORS is off unless ``RISKSERVICE_CORS_ORIGINS`` (comma-separated origins) is set; this is
the service's only CORS mechanism, so browser EHR apps and CDS Hooks clients share it.
``CDS_CORS_ORIGINS`` (the EHR adapter's setting) adds origins for ``/cds-services`` only.
Both are read from the config per request (cheaply, memoised), so a change takes effect.
"""
from __future__ import annotations

import urllib.parse

from flask import current_app, request

ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-Request-ID"
EXPOSE_HEADERS = "X-Request-ID, X-Disclaimer, X-Ruleset-Version"
# JSON answers load nothing; the /docs page loads only its own script and style.
CSP_API = "default-src 'none'; frame-ancestors 'none'"
CSP_DOCS = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"


# (lower-case name, name, value); value None = the path's Content-Security-Policy. A header
# the view set itself is kept. Cache-Control no-store: results are about a patient.
_DEFAULTS = [(name.lower(), name, value) for name, value in (
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer"),
    ("Content-Security-Policy", None), ("Cache-Control", "no-store"))]


def parse_origins(value) -> frozenset:
    value = value or ()
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(o.strip().rstrip("/") for o in value if o and o.strip())


def allowed_origins(config, path: str) -> frozenset:
    """Origins allowed for this path: CORS_ORIGINS everywhere, CDS_CORS_ORIGINS on /cds-services."""
    raw = (config["CORS_ORIGINS"], config["CDS_CORS_ORIGINS"])
    key = repr(raw)
    memo = _MEMO.get(key)
    if memo is None:
        memo = _MEMO[key] = (parse_origins(raw[0]), parse_origins(raw[0]) | parse_origins(raw[1]))
        if len(_MEMO) > 64:  # config changes are rare; never let this grow
            _MEMO.clear()
    return memo[1] if path.startswith("/cds-services") else memo[0]


_MEMO: dict = {}


UNSAFE = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def cross_site(req, config) -> bool:
    """True for a browser's request from another site: its ``Sec-Fetch-Site`` is neither
    ``same-origin`` nor ``none`` (typed or bookmarked), or, from a browser that does not send it,
    its ``Origin`` is neither this service (the Host it was sent to, or PUBLIC_BASE_URL) nor an
    allowed CORS origin. Servers and scripts send neither header and are never refused here."""
    origin = req.headers.get("Origin")
    allowed = allowed_origins(config, req.path)
    if origin and origin.rstrip("/") in allowed:
        return False
    fetch_site = req.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:   # the browser says where the request comes from
        return fetch_site not in ("same-origin", "none")
    if not origin or origin == "null":   # no browser, or one that hides the origin (no-referrer pages do)
        return False
    own = {req.host.lower()}
    if config.get("PUBLIC_BASE_URL"):
        own.add(urllib.parse.urlsplit(str(config["PUBLIC_BASE_URL"])).netloc.lower())
    return urllib.parse.urlsplit(origin).netloc.lower() not in own


def init_app(app):

    @app.before_request
    def _same_site_only():
        """A form on another site can post to this service (text/plain or multipart need no CORS
        preflight): the batch upload accepted such posts (issue 22, finding 14). A browser's unsafe
        request from another site is refused with 403 unless its origin is allowed by CORS."""
        req = request._get_current_object()
        if req.method in UNSAFE and cross_site(req, current_app.config):
            from riskservice.api.errors import problem
            return problem(403, "Forbidden", "Requests from another site's pages are refused; an allowed "
                           "origin (RISKSERVICE_CORS_ORIGINS) or a server-side client may post here.")
        return None

    @app.after_request
    def _headers(response):
        h = response.headers
        req = request._get_current_object()
        present = {key.lower() for key, _ in h.to_wsgi_list()}
        csp = CSP_DOCS if req.path.startswith("/docs") else CSP_API
        for lower, name, value in _DEFAULTS:
            if lower not in present:
                h.add(name, value or csp)
        origin = req.headers.get("Origin")
        if origin:  # no Origin header (API clients, servers): no CORS headers, nothing to look up
            _cors(response, origin, allowed_origins(current_app.config, req.path))
        return response


def _cors(response, origin, origins):
    if origin.rstrip("/") not in origins:
        return
    h = response.headers
    h["Access-Control-Allow-Origin"] = origin
    h.add("Vary", "Origin")
    h["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if request.method == "OPTIONS":
        h["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        h["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        h["Access-Control-Max-Age"] = "600"
