import json
import math

import pytest

from riskservice.core.errors import KnowledgeError
from riskservice.core.knowledge import derived_points, load_knowledge


def edit(directory, name, fn):
    path = directory / f"{name}.json"
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


def test_shipped_knowledge_loads_with_version_and_digest(kb):
    assert kb.version
    assert len(kb.sha256) == 64
    assert {"lipid_accumulation", "chronic_inflammation", "oxidative_stress",
            "mitochondrial_dysfunction", "er_stress", "direct_signalling_interference",
            "reduced_insulin_secretion"} <= set(kb.mechanisms)


def test_every_point_value_recomputes_from_its_effect_size(kb):
    """The Sullivan method: points = round(ln(RR ** exponent) / ln(1.5))."""
    base = kb.base_relative_risk
    checked = 0
    for factor in kb.factors:
        for variant in factor.get("variants", []):
            for band in variant["bands"]:
                e = band["effect"]
                if e is None:
                    assert band["points"] == 0, (factor["id"], band["id"])
                    continue
                raw = e["exponent"] * math.log(e["estimate"]) / math.log(base)
                assert band["points"] == int(math.floor(raw + 0.5)), (factor["id"], band["id"])
                checked += 1
    for cls in kb.drug_classes:
        if cls["effect"]:
            assert cls["points"] == derived_points(cls["effect"], base)
            checked += 1
    assert checked >= 25


def test_derived_points_known_values():
    assert derived_points({"estimate": 12.41}, 1.5) == 6    # obese women, Guh 2009
    assert derived_points({"estimate": 6.74}, 1.5) == 5     # obese men
    assert derived_points({"estimate": 9.51}, 1.5) == 6     # gestational diabetes
    assert derived_points({"estimate": 0.74, "exponent": -1}, 1.5) == 1  # inactivity


def test_every_reference_has_an_identifier(kb):
    for ref in kb.references.values():
        assert any(ref.get(k) for k in ("pmid", "doi", "pmcid", "url")), ref["id"]


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("references", []), "no reference id"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("references", ["nobody2099"]), "unknown reference id 'nobody2099'"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("points", 9), "points 9 but the effect size gives"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("lower", 24), "gap or overlap"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("lower_inclusive", False), "must belong to exactly one band"),
    (lambda d: d["factors"][0].__setitem__("mechanisms", ["telepathy"]), "unknown mechanism id 'telepathy'"),
    (lambda d: d["factors"][0].pop("label"), "'label' is a required property"),
])
def test_broken_factor_file_fails_start_up_with_a_clear_message(knowledge_copy, breakage, message):
    edit(knowledge_copy, "factors", breakage)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(knowledge_copy)
    assert message in str(info.value)
    assert "factors.json" in str(info.value)


def test_uncited_reference_entry_fails(knowledge_copy):
    def strip(doc):
        ref = doc["references"][0]
        for k in ("pmid", "doi", "pmcid", "url"):
            ref.pop(k, None)
    edit(knowledge_copy, "references", strip)
    with pytest.raises(KnowledgeError, match="references.json"):
        load_knowledge(knowledge_copy)


def test_invalid_json_fails(knowledge_copy):
    (knowledge_copy / "mechanisms.json").write_text("{not json")
    with pytest.raises(KnowledgeError, match="mechanisms.json: not valid JSON"):
        load_knowledge(knowledge_copy)


def test_missing_file_fails(knowledge_copy):
    (knowledge_copy / "indices.json").unlink()
    with pytest.raises(KnowledgeError, match="knowledge file missing"):
        load_knowledge(knowledge_copy)


def test_digest_changes_with_content(knowledge_copy, kb):
    edit(knowledge_copy, "ruleset", lambda d: d.__setitem__("name", "edited"))
    assert load_knowledge(knowledge_copy).sha256 != kb.sha256


@pytest.mark.parametrize("entry, expected", [
    ("prednisolone", "glucocorticoids"), ("PREDNISOLONE ", "glucocorticoids"),
    ("H02AB06", "glucocorticoids"), ("h02ab06", "glucocorticoids"),
    ("olanzapine", "atypical_antipsychotics"), ("N05AH03", "atypical_antipsychotics"),
    ("N05AX08", "atypical_antipsychotics"), ("C03AA03", "thiazides"), ("indapamide", "thiazides"),
    ("C07AB03", "beta_blockers_nonvasodilating"), ("C07AB12", None), ("carvedilol", None),
    ("C07AG02", None), ("C10AA05", "statins"), ("L04AD02", "calcineurin_inhibitors"),
    ("L04AH01", "mtor_inhibitors"), ("L04AA18", "mtor_inhibitors"), ("J05AE03", "hiv_protease_inhibitors"),
    ("C10AD02", "niacin"), ("nicotinic acid", "niacin"), ("metformin", None), ("", None), ("A10BA02", None),
])
def test_drug_vocabulary_matches_names_and_atc_codes(kb, entry, expected):
    cls = kb.drug_class_for(entry)
    assert (cls["id"] if cls else None) == expected
