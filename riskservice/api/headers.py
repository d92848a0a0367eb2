"""Security headers on every response and CORS for an allow-list of browser origins.

CORS is off unless ``RISKSERVICE_CORS_ORIGINS`` (comma-separated origins) is set; this is
the service's only CORS mechanism, so browser EHR apps and CDS Hooks clients share it.
"""
from __future__ import annotations

from flask import current_app, request

EXTENSION = "riskservice_cors_origins"
ALLOW_HEADERS = "Authorization, Content-Type, X-API-Key, X-Request-ID"
EXPOSE_HEADERS = "X-Request-ID, X-Disclaimer, X-Ruleset-Version"
# JSON answers load nothing; the /docs page loads only its own script and style.
CSP_API = "default-src 'none'; frame-ancestors 'none'"
CSP_DOCS = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'"


def allowed_origins(config) -> frozenset:
    value = config.get("CORS_ORIGINS") or ()
    if isinstance(value, str):
        value = value.split(",")
    return frozenset(o.strip().rstrip("/") for o in value if o and o.strip())


def init_app(app):
    app.extensions[EXTENSION] = allowed_origins(app.config)

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Content-Security-Policy", CSP_DOCS if request.path.startswith("/docs") else CSP_API)
        h.setdefault("Cache-Control", "no-store")  # results are about a patient: never cached
        _cors(response, current_app.extensions[EXTENSION])
        return response


def _cors(response, origins):
    origin = request.headers.get("Origin")
    if not origin or origin.rstrip("/") not in origins:
        return
    h = response.headers
    h["Access-Control-Allow-Origin"] = origin
    h.add("Vary", "Origin")
    h["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
    if request.method == "OPTIONS":
        h["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        h["Access-Control-Allow-Headers"] = ALLOW_HEADERS
        h["Access-Control-Max-Age"] = "600"
