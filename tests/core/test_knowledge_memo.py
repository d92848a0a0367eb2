"""The JSON Schema check of the knowledge files is remembered per exact bytes (start-up speed,
issue 13): unchanged files skip jsonschema on the next start, any changed byte is checked again."""
import json

import jsonschema
import pytest

from riskservice.core import knowledge as K
from riskservice.core.errors import KnowledgeError


def _count_checks(monkeypatch):
    calls = []
    real = jsonschema.Draft202012Validator

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(jsonschema, "Draft202012Validator", counting)
    return calls


def test_unchanged_files_are_checked_once(tmp_path, monkeypatch, knowledge_copy):
    monkeypatch.setenv(K.CACHE_ENV, str(tmp_path / "cache"))
    calls = _count_checks(monkeypatch)
    first = K.load_knowledge(knowledge_copy)
    assert len(calls) == len(K.FILES)
    assert len(list((tmp_path / "cache").glob("knowledge-valid-*"))) == 1
    second = K.load_knowledge(knowledge_copy)
    assert len(calls) == len(K.FILES) and second.sha256 == first.sha256


def test_a_changed_file_is_checked_again_and_refused(tmp_path, monkeypatch, knowledge_copy):
    monkeypatch.setenv(K.CACHE_ENV, str(tmp_path / "cache"))
    K.load_knowledge(knowledge_copy)
    path = knowledge_copy / "mechanisms.json"
    doc = json.loads(path.read_text())
    del doc["downstream_chain"]
    path.write_text(json.dumps(doc))
    calls = _count_checks(monkeypatch)
    with pytest.raises(KnowledgeError, match="does not match its schema"):
        K.load_knowledge(knowledge_copy)
    assert calls
    assert len(list((tmp_path / "cache").glob("knowledge-valid-*"))) == 1   # nothing remembered for it


def test_cache_off_checks_every_time(monkeypatch, knowledge_copy):
    monkeypatch.setenv(K.CACHE_ENV, "off")
    calls = _count_checks(monkeypatch)
    K.load_knowledge(knowledge_copy)
    K.load_knowledge(knowledge_copy)
    assert len(calls) == 2 * len(K.FILES)


def test_unwritable_cache_still_loads(tmp_path, monkeypatch, knowledge_copy):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(K.CACHE_ENV, str(blocker / "cache"))
    assert K.load_knowledge(knowledge_copy).version
