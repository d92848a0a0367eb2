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


def test_every_point_value_recomputes_from_its_derivation(kb):
    """Generated bands: round(coefficient x (W - W_ref) / B); literature bands: round(ln(estimate) / B)."""
    unit = kb.points_unit
    assert kb.base_relative_risk == pytest.approx(math.exp(unit), abs=1e-6)
    coefficients = kb.ruleset["points_method"]["generated"]["coefficients"]
    generated = literature = 0
    for factor in kb.factors:
        for variant in factor.get("variants", []):
            for band in variant["bands"]:
                if "sullivan" in band:
                    s = band["sullivan"]
                    if s["term"] not in ("reference category", "not scored"):
                        assert s["coefficient"] == coefficients[s["term"]]
                    shift = s.get("category_base", {}).get("coefficient", 0.0)
                    raw = (s["coefficient"] * (s["reference_value"] - s["base_value"]) - shift) / unit
                    generated += 1
                elif band["effect"] is None:
                    assert band["points"] == 0, (factor["id"], band["id"])
                    continue
                else:
                    e = band["effect"]
                    raw = e["exponent"] * math.log(e["estimate"]) / unit
                    literature += 1
                assert band["points"] == int(math.floor(raw + 0.5)), (factor["id"], band["id"])
    for cls in kb.drug_classes:
        if cls["effect"]:
            assert cls["points"] == derived_points(cls["effect"], unit)
            literature += 1
    assert generated >= 100 and literature >= 1   # PCOS: the one factor scored from a converted estimate


def test_derived_points_known_values():
    unit = 0.25
    assert derived_points({"estimate": 9.51}, unit) == 9     # gestational diabetes: ln 9.51 / 0.25 = 9.01
    assert derived_points({"estimate": 2.44}, unit) == 4     # family history, adjusted: 3.57
    assert derived_points({"estimate": 1.86}, unit) == 2     # HbA1c 5.5-5.9%: 2.48
    assert derived_points({"estimate": 0.75, "exponent": -1}, unit) == 1  # thiazides vs placebo inverted: 1.15


def test_generated_factors_name_the_recorded_fit(kb):
    gen = kb.ruleset["points_method"]["generated"]
    marked = [f for f in kb.factors if "generated" in f]
    assert {f["id"] for f in marked} >= {"age", "sex", "ethnicity", "bmi", "hdl_cholesterol", "smoking"}
    for f in marked:
        assert f["generated"]["data_sha256"] == gen["data_sha256"]
        assert f["generated"]["generator"] == "riskservice derive-points"


def test_every_reference_has_an_identifier(kb):
    for ref in kb.references.values():
        assert any(ref.get(k) for k in ("pmid", "doi", "pmcid", "url")), ref["id"]


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("references", []), "no reference id"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("references", ["nobody2099"]), "unknown reference id 'nobody2099'"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("points", 9), "points 9 but its coefficient and reference value give"),
    (lambda d: next(f for f in d["factors"] if f["id"] == "bmi")["variants"][0]["bands"][1]["sullivan"].__setitem__("coefficient", 0.5), "but the fit records"),
    (lambda d: d["factors"][0]["generated"].__setitem__("data_sha256", "0" * 64), "differs from ruleset.json"),
    (lambda d: d["factors"][0].__setitem__("input", "no_such_input"), "not a known input field or index id"),
    (lambda d: next(f for f in d["factors"] if f["id"] == "pcos")["variants"][0]["bands"][1].__setitem__("points", 7), "points 7 but the effect size gives"),
    (lambda d: d["factors"][0]["variants"][0]["bands"][1].__setitem__("lower", 26), "gap or overlap"),
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


def _homa(doc):
    return next(ix for ix in doc["indices"] if ix["id"] == "homa_ir")


@pytest.mark.parametrize("name, change, message", [
    ("indices", lambda d: _homa(d)["cutoffs"][0].update(value=2.6), "its one cut-off must be the outcome's"),
    ("indices", lambda d: _homa(d)["cutoffs"].append(dict(_homa(d)["cutoffs"][0], value=2.5)),
     "its one cut-off must be the outcome's"),
    ("ruleset", lambda d: d["disclaimer"].update(text=d["disclaimer"]["text"] + " HOMA-IR above 2.5 flags it."),
     "states a HOMA-IR cut-off of 2.5"),
    ("ruleset", lambda d: d["measured"]["glucose_lowering_classes"].append("sglt2"), "'sglt2' is not in drug_classes"),
    ("ruleset", lambda d: d["dysglycaemia"]["established_when"][0]["at_least"].update({"mmol/mol": 42}),
     "42 mmol/mol is"),
    ("ruleset", lambda d: d.update(version="2026.11.1.x"), "does not match"),
])
def test_the_outcome_blocks_are_checked_at_start_up(knowledge_copy, name, change, message):
    edit(knowledge_copy, name, change)
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(knowledge_copy)


def test_sullivan_points_subtract_the_category_base(kb):
    from riskservice.core.knowledge import sullivan_points
    unit = kb.points_unit
    base = {"term": "eth_asian", "coefficient": 0.5}
    assert sullivan_points({"coefficient": 1.0, "reference_value": 1.0, "base_value": 0.0}, unit) == 4
    assert sullivan_points({"coefficient": 1.0, "reference_value": 1.0, "base_value": 0.0,
                            "category_base": base}, unit) == 2
    # a lab factor whose base is a typical value: below it, negative points
    assert sullivan_points({"coefficient": 0.02, "reference_value": 35.0, "base_value": 50.0}, unit) == -1
