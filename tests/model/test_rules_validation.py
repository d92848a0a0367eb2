"""The model card's rules-score AUCs on Reaven & Miller are reproducible from the code."""
from pathlib import Path

from riskservice.model.rules_validation import card_section, rules_external_validation

CARD = Path(__file__).resolve().parents[2] / "models" / "MODEL_CARD.md"


def test_card_quotes_the_current_rules_auc(kb):
    res = rules_external_validation(kb)
    assert res["n"] == 112
    assert 0.5 < res["female_without_glucose"]["auc"] < 1
    assert res["female_with_glucose"]["auc"] >= res["female_without_glucose"]["auc"] - 0.05
    assert card_section(res) in CARD.read_text()
