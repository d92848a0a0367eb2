"""Security headers on every response and CORS for an allow-list of browser origins.

CORS is off unless ``RISKSERVICE_CORS_ORIGINS`` (comma-separated origins) is set; this is
the service's only CORS mechanism, so browser EHR apps and CDS Hooks clients share it.
``CDS_CORS_ORIGINS`` (the EHR adapter's setting) adds origins for ``/cds-services`` only.
Both are read from the config per request (cheaply, memoised), so a change takes effect.
"""
from __future__ import annotations

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


def init_app(app):

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
