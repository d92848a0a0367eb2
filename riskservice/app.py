"""Flask application factory: configuration, the scorer, error handlers and blueprints.

The scorer (knowledge plus model) is built once here, so under gunicorn's preload it is
loaded and verified once in the master; a broken knowledge file fails start-up.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Flask

from riskservice.config import DEFAULTS
from riskservice.core.knowledge import load_knowledge
from riskservice.core.scoring import Scorer


def build_app(test_config=None) -> Flask:
    from riskservice.api.flaskapp import ServiceFlask
    app = ServiceFlask(__name__, static_folder=None)  # the docs page serves its own two assets
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("RISKSERVICE")
    if test_config:
        app.config.from_mapping(test_config)
    from riskservice.api.jsonprovider import OrjsonProvider
    app.json = OrjsonProvider(app)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    from riskservice.api.sessions import CookieFirstSessionInterface
    app.session_interface = CookieFirstSessionInterface()

    # Where uploads are spooled is decided now, at start-up: later, a full TMPDIR must be answered
    # with 507 (riskservice/api/spool.py), not silently swapped for another directory by tempfile.
    tempfile.gettempdir()
    knowledge = load_knowledge(app.config["KNOWLEDGE_DIR"])
    model = _load_model(app)
    app.extensions["riskservice"] = Scorer(
        knowledge, model=model, require_approved=_flag(app.config["REQUIRE_APPROVED"]))

    _init_operations(app)
    _init_compression(app)
    from riskservice.api import batch, columns, meta, score
    app.register_blueprint(meta.bp)
    app.register_blueprint(score.bp)
    app.register_blueprint(batch.bp)
    app.register_blueprint(columns.bp)
    from riskservice.ehr.blueprint import bp as ehr_bp
    app.register_blueprint(ehr_bp)
    from riskservice.web import bp as web_bp
    app.register_blueprint(web_bp)
    return app


def _init_operations(app) -> None:
    """Request ids, logs, metrics, auth, headers, errors, contract and readiness.

    Order matters: the request id and start time are set before the API-key check, so a
    401 is logged and counted like any other answer.
    """
    from riskservice import __version__
    from riskservice.api import accesslog, auth, bodydeadline, docs, errors, headers, metrics, readiness, requestid
    accesslog.configure_logging()
    requestid.init_app(app)
    accesslog.init_app(app)
    metrics.init_app(app)
    auth.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    bodydeadline.init_app(app)
    scorer = app.extensions["riskservice"]
    ready = app.extensions["riskservice_ready"] = readiness.check(scorer, model_enabled=_model_enabled(app))
    if ready["fatal"]:  # never serve knowledge that cannot score a typical patient
        from riskservice.core.errors import KnowledgeError
        raise KnowledgeError("refusing to start: " + "; ".join(ready["fatal"]))
    from riskservice.core.medications import suggestion_budget
    suggestions = int(app.config["MEDICATION_SUGGESTIONS_PER_REQUEST"])

    @app.before_request
    def _medication_suggestion_budget():   # a bounded spelling search per request (core/medications.py)
        suggestion_budget(suggestions)

    for model in scorer.model or [None]:
        metrics.set_info(__version__, scorer.knowledge.version, model and model.model_id, model and model.version)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(docs.bp)


COMPRESSED_TYPES = ["application/json", "application/fhir+json", "text/html", "text/css", "text/javascript"]


def _init_compression(app) -> None:
    """Compress large answers (a full answer is ~60 kB, ~17 kB compressed) when the client asks.

    Streams are left alone (COMPRESS_STREAMS off): Flask-Compress would feed them through one
    compressor that holds rows back until its buffer fills, so a batch would stop streaming.
    A request that accepts no encoding skips Flask-Compress's checks; it only needs the Vary.
    """
    from flask import request
    from flask_compress import Compress
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config["COMPRESS_STREAMS"] = False
    register = app.config.get("COMPRESS_REGISTER", True)
    app.config["COMPRESS_REGISTER"] = False
    compress = Compress(app)
    app.config["COMPRESS_REGISTER"] = register
    if not (register and app.config["COMPRESS_MIMETYPES"]):
        return

    @app.after_request
    def _compress(response):
        if request._get_current_object().environ.get("HTTP_ACCEPT_ENCODING"):
            return compress.after_request(response)
        # No encoding accepted: Flask-Compress would only add Accept-Encoding to Vary.
        vary = response.headers.get("Vary")
        if not vary:
            response.headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Encoding"
        return response


def default_model_dir() -> Path:
    """The repository's models/ directory (set RISKSERVICE_MODEL_DIR when installed elsewhere)."""
    return Path(__file__).resolve().parent.parent / "models"


def _flag(value) -> bool:
    """A boolean from config: True/False, or a string such as "true", "on", "1"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _model_enabled(app) -> bool:
    return str(app.config["MODEL"]).lower() not in ("off", "false", "0", "no")


def _load_model(app):
    """Load and verify the shipped models (insulin resistance, dysglycaemia: every manifest in
    MODEL_DIR) unless RISKSERVICE_MODEL=off.

    Any doubt (hash mismatch, failed self-check, two models of one role) raises ModelLoadError and
    the service refuses to start: a model that cannot be verified is never served.
    """
    if not _model_enabled(app):
        return None
    from riskservice.model.modelset import load_models
    return load_models(app.config["MODEL_DIR"] or default_model_dir())
