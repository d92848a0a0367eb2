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
    return jsonify(openapi_document(current_app))


def openapi_document(app) -> dict:
    """The OpenAPI document, built on the first request (apispec and marshmallow cost ~0.1 s of
    start-up otherwise) and kept in ``app.extensions``; building it twice is harmless."""
    doc = app.extensions.get("riskservice_openapi")
    if doc is None:
        from riskservice.api.openapi import openapi
        doc = app.extensions.setdefault("riskservice_openapi", openapi(app.extensions["riskservice"].knowledge))
    return doc


@bp.get("/docs")
def docs_page():
    return Response(_asset("index.html"), mimetype="text/html")


@bp.get("/docs/docs.js")
def docs_js():
    return Response(_asset("docs.js"), mimetype=_ASSETS["docs.js"])


@bp.get("/docs/docs.css")
def docs_css():
    return Response(_asset("docs.css"), mimetype=_ASSETS["docs.css"])
