"""The contract, served: GET /openapi.json and a docs page at /docs whose script and style
are files in this package (no CDN, so it works offline and under a strict CSP)."""
from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, current_app, jsonify

bp = Blueprint("docs", __name__)
_ASSETS = {"docs.js": "text/javascript", "docs.css": "text/css"}


def _asset(name: str) -> bytes:
    return resources.files("riskservice.docs_ui").joinpath(name).read_bytes()


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(current_app.extensions["riskservice_openapi"])


@bp.get("/docs")
def docs_page():
    return Response(_asset("index.html"), mimetype="text/html")


@bp.get("/docs/docs.js")
def docs_js():
    return Response(_asset("docs.js"), mimetype=_ASSETS["docs.js"])


@bp.get("/docs/docs.css")
def docs_css():
    return Response(_asset("docs.css"), mimetype=_ASSETS["docs.css"])
