"""The model card's rules-score AUCs on Reaven & Miller are reproducible from the code."""
import re
from pathlib import Path

from riskservice.model.rules_validation import card_section, rules_external_validation

CARD = Path(__file__).resolve().parents[2] / "models" / "MODEL_CARD.md"
ROUNDED = re.compile(r"\d\.\d{3}\b")


def test_card_quotes_the_current_rules_auc(kb):
    res = rules_external_validation(kb)
    assert res["n"] == 112
    assert 0.5 < res["female_without_glucose"]["auc"] < 1
    assert res["female_with_glucose"]["auc"] >= res["female_without_glucose"]["auc"] - 0.05
    expected = card_section(res)
    text = CARD.read_text()
    begin = text.index("\n", text.index("<!-- RULES-AUC:BEGIN")) + 1
    quoted = text[begin:text.index("<!-- RULES-AUC:END -->")].rstrip("\n")
    # same text; the 3-decimal figures compared as numbers (the last bits of a CI may differ by CPU)
    assert ROUNDED.sub("#", quoted) == ROUNDED.sub("#", expected)
    exact = [res[k][f] for k in ("female_without_glucose", "male_without_glucose", "female_with_glucose",
                                 "male_with_glucose") for f in ("auc", "ci_low", "ci_high")]
    card = [float(x) for x in ROUNDED.findall(quoted)]
    assert len(card) == len(exact) == 12
    assert all(abs(c - e) <= 0.0005 + 1e-9 for c, e in zip(card, exact)), (card, exact)
