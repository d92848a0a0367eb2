"""Review status on every knowledge entry, the lowest one in each result, and the strict switch."""
import json

import pytest

from riskservice.core.errors import KnowledgeError, UnapprovedKnowledge
from riskservice.core.knowledge import load_knowledge
from riskservice.core.review import all_statuses
from riskservice.core.scoring import Scorer
from tests.conftest import ACCEPTANCE_PATIENT

REVIEW_KEYS = ("review_status", "reviewed_on", "reviewer_role")


def reviewable(kb):
    """Every knowledge entry issue 7 names (factor band, mechanism, drug class, index cut-off), plus factors."""
    for f in kb.factors:
        yield f"factor {f['id']}", f
        for v in f.get("variants", []):
            for b in v["bands"]:
                yield f"band {f['id']}/{b['id']}", b
    for m in kb.mechanisms.values():
        yield f"mechanism {m['id']}", m
    yield "downstream_chain", kb.downstream_chain
    for c in kb.drug_classes:
        yield f"drug class {c['id']}", c
    for ix in kb.indices:
        for cut in ix.get("cutoffs", []):
            yield f"cut-off {ix['id']} {cut['value']}", cut


def test_every_entry_carries_a_review_status(kb):
    entries = list(reviewable(kb))
    assert len(entries) > 80
    for where, entry in entries:
        assert all(k in entry for k in REVIEW_KEYS), where
        assert entry["review_status"] in ("draft", "under_review", "approved"), where


def test_nothing_claims_approval_yet(kb):
    """No real clinical board has reviewed these files: approved would be a false claim."""
    assert {e["review_status"] for _, e in reviewable(kb)} <= {"draft", "under_review"}
    assert {s["review_status"] for s in all_statuses(kb)} <= {"draft", "under_review"}


def test_reviewer_is_a_role_never_a_name(knowledge_copy):
    path = knowledge_copy / "mechanisms.json"
    doc = json.loads(path.read_text())
    doc["mechanisms"][0]["reviewer_role"] = "Dr Jane Smith"
    path.write_text(json.dumps(doc))
    with pytest.raises(KnowledgeError, match="reviewer_role|Dr Jane Smith"):
        load_knowledge(knowledge_copy)


def test_result_reports_the_lowest_status_and_which_entries(scorer):
    meta = scorer.score(dict(ACCEPTANCE_PATIENT))["meta"]
    assert meta["review_status"] == "draft"
    assert "drug_class:glucocorticoids" in meta["review_lowest_entries"]
    assert sum(meta["review_counts"].values()) > len(meta["review_lowest_entries"])


def test_strict_switch_refuses_a_draft_entry_with_a_clear_message(kb):
    strict = Scorer(kb, require_approved=True)
    with pytest.raises(UnapprovedKnowledge) as info:
        strict.score(dict(ACCEPTANCE_PATIENT))
    assert info.value.entries["drug_class:glucocorticoids"] == "draft"
    message = str(info.value)
    assert "REQUIRE_APPROVED" in message and "drug_class:glucocorticoids (draft)" in message


def approve_everything(directory):
    """What a clinical reviewer does, in bulk: edit the status fields of the data files."""
    def walk(node):
        if isinstance(node, dict):
            if "review_status" in node:
                node.update(review_status="approved", reviewed_on="2026-12-01",
                            reviewer_role="clinical reviewer")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for path in directory.glob("*.json"):
        if path.name == "knowledge.schema.json":
            continue
        doc = json.loads(path.read_text())
        walk(doc)
        path.write_text(json.dumps(doc))


def test_strict_switch_serves_once_entries_are_approved(knowledge_copy):
    approve_everything(knowledge_copy)
    strict = Scorer(load_knowledge(knowledge_copy), require_approved=True)
    meta = strict.score(dict(ACCEPTANCE_PATIENT))["meta"]
    assert meta["review_status"] == "approved"


def test_one_draft_entry_is_enough_to_refuse(knowledge_copy):
    approve_everything(knowledge_copy)
    path = knowledge_copy / "mechanisms.json"
    doc = json.loads(path.read_text())
    lipid = next(m for m in doc["mechanisms"] if m["id"] == "lipid_accumulation")
    lipid["review_status"] = "draft"
    path.write_text(json.dumps(doc))
    strict = Scorer(load_knowledge(knowledge_copy), require_approved=True)
    with pytest.raises(UnapprovedKnowledge) as info:
        strict.score(dict(ACCEPTANCE_PATIENT))
    assert info.value.entries == {"mechanism:lipid_accumulation": "draft"}
