import json

import pytest

from riskservice import create_app
from riskservice.core.errors import KnowledgeError


def test_test_config_overrides_defaults():
    app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1234})
    assert app.testing and app.config["MAX_CONTENT_LENGTH"] == 1234


def test_environment_overrides_defaults(monkeypatch):
    monkeypatch.setenv("RISKSERVICE_MAX_CONTENT_LENGTH", "4321")
    assert create_app().config["MAX_CONTENT_LENGTH"] == 4321


def test_bad_knowledge_directory_fails_start_up(knowledge_copy):
    path = knowledge_copy / "drug_classes.json"
    doc = json.loads(path.read_text())
    doc["classes"][0]["references"] = ["made_up_2030"]
    path.write_text(json.dumps(doc))
    with pytest.raises(KnowledgeError, match="drug_classes.json glucocorticoids: unknown reference id"):
        create_app({"KNOWLEDGE_DIR": str(knowledge_copy)})


def test_every_config_key_has_its_default_in_config_py_and_a_readme_row():
    from riskservice.config import DEFAULTS
    from tests.paths import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration"):readme.index("## Contract")]
    assert [k for k in DEFAULTS if f"`RISKSERVICE_{k}`" not in table] == []
    config = create_app({"TESTING": True, "MODEL": "off"}).config
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax" and config["SECRET_KEY"]
