"""The clinician's page: a form over the API's field table, the result with its reasons,
a patient handout, a batch page and SMART App Launch, all served by the same engine.

Server-side Jinja templates; the only script is a small progressive enhancement in
``static/web.js``. Every asset ships in this package, and each page is sent with a strict
Content-Security-Policy (no inline script or style, nothing from another origin).

Configuration: ``SECRET_KEY`` and the ``SMART_*`` keys, with their defaults in
:mod:`riskservice.config`.
"""
from __future__ import annotations

import os

from flask import Blueprint

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/web")

@bp.record_once
def _setup(state):
    """A random SECRET_KEY when none is configured: signed values then last as long as the process."""
    if not state.app.config["SECRET_KEY"]:
        state.app.config["SECRET_KEY"] = os.urandom(32)
    # Served over https (PUBLIC_BASE_URL says so): the launch cookie never travels in clear.
    if str(state.app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
        state.app.config["SESSION_COOKIE_SECURE"] = True


@bp.app_template_filter("capitalize_first")
def _capitalize_first(text: str) -> str:
    """Upper-case the first letter only (Jinja's capitalize lower-cases the rest: HbA1c -> Hba1c)."""
    return text[:1].upper() + text[1:]


@bp.app_template_filter("lower_first")
def _lower_first(text: str) -> str:
    """Lower-case the first letter unless the word is an acronym (TyG, HOMA-IR stay)."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


from riskservice.web import views  # noqa: E402, F401  (registers the routes on bp)
