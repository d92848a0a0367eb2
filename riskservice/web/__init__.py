"""The clinician's page: a form over the API's field table, the result with its reasons,
a patient handout, a batch page and SMART App Launch, all served by the same engine.

Server-side Jinja templates; the only script is a small progressive enhancement in
``static/web.js``. Every asset ships in this package, and each page is sent with a strict
Content-Security-Policy (no inline script or style, nothing from another origin).

Configuration (Flask keys, or ``RISKSERVICE_<KEY>`` environment variables):
``SECRET_KEY`` signs the short SMART launch cookie and the EHR-origin field (random per
process when unset, which is fine under gunicorn's preload); ``SMART_ISSUERS`` (comma-separated
FHIR base URLs allowed to launch the app: required for any launch); ``SMART_AUTH_ORIGINS``
(extra origins of authorization servers on other hosts); ``SMART_CLIENT_ID``;
``SMART_SCOPES``; ``SMART_REDIRECT_URI``; ``SMART_TIMEOUT`` (seconds, per outbound call);
``SMART_AS_OF`` (fixed YYYY-MM-DD for reproducible demos, default today).
"""
from __future__ import annotations

import os

from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

CONFIG_DEFAULTS = {
    "SMART_ISSUERS": None,
    "SMART_AUTH_ORIGINS": None,
    "SMART_CLIENT_ID": "riskservice",
    "SMART_SCOPES": ("openid fhirUser patient/Patient.rs patient/Observation.rs patient/MedicationRequest.rs "
                     "patient/MedicationStatement.rs patient/Condition.rs patient/FamilyMemberHistory.rs"),
    "SMART_REDIRECT_URI": None,
    "SMART_TIMEOUT": 10.0,
    "SMART_AS_OF": None,
}


@bp.record_once
def _setup(state):
    app = state.app
    for key, value in CONFIG_DEFAULTS.items():
        app.config.setdefault(key, value)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.urandom(32)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)


from riskservice.web import views  # noqa: E402, F401  (registers the routes on bp)
