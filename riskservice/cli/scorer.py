"""The scorer for command-line use, built from the same settings as the service but without a
Flask app: the knowledge base, the verified model (unless asked not to) and REQUIRE_APPROVED."""
from __future__ import annotations

import os
from pathlib import Path

from riskservice.config import DEFAULTS
from riskservice.core.knowledge import load_knowledge
from riskservice.core.scoring import Scorer


def setting(key: str):
    """A configuration value as the service reads it: RISKSERVICE_<KEY>, else the default."""
    return os.environ.get(f"RISKSERVICE_{key}", DEFAULTS[key])


def build_scorer(model: bool = True) -> Scorer:
    """Knowledge and (when ``model``) the verified models; KnowledgeError/ModelLoadError on doubt."""
    knowledge = load_knowledge(setting("KNOWLEDGE_DIR") or None)
    loaded = None
    if model:
        from riskservice.model.modelset import load_models
        loaded = load_models(setting("MODEL_DIR") or default_model_dir())
    return Scorer(knowledge, model=loaded, require_approved=_flag(setting("REQUIRE_APPROVED")))


def default_model_dir() -> Path:
    """The repository's models/ directory, as ``riskservice.app.default_model_dir``; importing
    the app from here would import Flask, about 0.15 s of every command's start-up."""
    return Path(__file__).resolve().parent.parent.parent / "models"


def _flag(value) -> bool:
    """A boolean setting as ``riskservice.app`` reads it: True/False, or "1", "true", "on", "yes"."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)
