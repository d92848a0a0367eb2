"""Flask application factory: configuration, the scorer, error handlers and blueprints.

The scorer (knowledge plus model) is built once here, so under gunicorn's preload it is
loaded and verified once in the master; a broken knowledge file fails start-up.
"""
from __future__ import annotations

from flask import Flask

from riskservice.config import DEFAULTS
from riskservice.core.knowledge import load_knowledge
from riskservice.core.scoring import Scorer


def build_app(test_config=None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("RISKSERVICE")
    if test_config:
        app.config.from_mapping(test_config)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    knowledge = load_knowledge(app.config["KNOWLEDGE_DIR"])
    model = _load_model(app)
    app.extensions["riskservice"] = Scorer(
        knowledge, model=model, require_approved=_flag(app.config["REQUIRE_APPROVED"]))

    from riskservice.api import errors, meta, requestid, score
    requestid.init_app(app)
    errors.init_app(app)
    app.register_blueprint(meta.bp)
    app.register_blueprint(score.bp)
    return app


def _flag(value) -> bool:
    """A boolean from config: True/False, or a string such as "true", "on", "1"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


def _load_model(app):
    """Load and verify the shipped model unless RISKSERVICE_MODEL=off."""
    if str(app.config["MODEL"]).lower() in ("off", "false", "0", "no"):
        return None
    try:
        from riskservice.model.artifact import load_model
    except ImportError:
        return None
    return load_model(app.config["MODEL_DIR"])
