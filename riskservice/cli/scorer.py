"""The scorer for command-line use, built from the same settings as the service but without a
Flask app: the knowledge base, the verified model (unless asked not to) and REQUIRE_APPROVED."""
from __future__ import annotations

import os

from riskservice.config import DEFAULTS
from riskservice.core.knowledge import load_knowledge
from riskservice.core.scoring import Scorer


def setting(key: str):
    """A configuration value as the service reads it: RISKSERVICE_<KEY>, else the default."""
    return os.environ.get(f"RISKSERVICE_{key}", DEFAULTS[key])


def build_scorer(model: bool = True) -> Scorer:
    """Knowledge and (when ``model``) the verified model; KnowledgeError/ModelLoadError on doubt."""
    from riskservice.app import _flag, default_model_dir
    knowledge = load_knowledge(setting("KNOWLEDGE_DIR") or None)
    loaded = None
    if model:
        from riskservice.model import load_model
        loaded = load_model(setting("MODEL_DIR") or default_model_dir())
    return Scorer(knowledge, model=loaded, require_approved=_flag(setting("REQUIRE_APPROVED")))
