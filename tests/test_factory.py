import json

import pytest

from riskservice import create_app
from riskservice.core.errors import KnowledgeError


def test_test_config_overrides_defaults():
    app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1234})
    assert app.testing and app.config["MAX_CONTENT_LENGTH"] == 1234


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("RISKSERVICE_MAX_CONTENT_LENGTH", "4321")
    assert create_app()["config"] if False else create_app().config["MAX_CONTENT_LENGTH"] == 4321


def test_bad_knowledge_directory_fails_start_up(knowledge_copy):
    path = knowledge_copy / "drug_classes.json"
    doc = json.loads(path.read_text())
    doc["classes"][0]["references"] = ["made_up_2030"]
    path.write_text(json.dumps(doc))
    with pytest.raises(KnowledgeError, match="drug_classes.json glucocorticoids: unknown reference id"):
        create_app({"KNOWLEDGE_DIR": str(knowledge_copy)})
