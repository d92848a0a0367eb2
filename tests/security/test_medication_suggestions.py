"""Issue 22, finding 6: distinct unknown medication names cannot make a request crawl. Spelling
searches are capped per request (MEDICATION_SUGGESTIONS_PER_REQUEST) and each distinct name is
searched once per request; without a budget (CLI) every unknown name still gets its search."""
from __future__ import annotations

import random
import string

from riskservice import create_app
from riskservice.core.medications import suggestion_budget


def _names(n: int, seed: int = 22) -> list:
    rng = random.Random(seed)
    return ["".join(rng.choice(string.ascii_lowercase) for _ in range(9)) for _ in range(n)]


def test_searches_are_capped_and_cached_per_request():
    app = create_app({"TESTING": True, "MODEL": "off", "MEDICATION_SUGGESTIONS_PER_REQUEST": 25})
    index = app.extensions["riskservice"].knowledge._medication_index
    searched = []
    search = index._suggest_cached
    index._suggest_cached = lambda words: searched.append(words) or search(words)
    client = app.test_client()
    names = _names(300) + ["prednisolon"] * 50   # 300 made-up names, then one misspelling many times
    records = [{"age": 50, "sex": "female", "bmi": 25, "medications": names[i:i + 50]} for i in range(0, 350, 50)]
    resp = client.post("/v1/score/batch", json=records)
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert text.count("not in the medication vocabulary") >= 300   # every unknown name is still reported
    assert len(searched) == 25                                     # but only 25 were searched
    assert "Did you mean prednisolone?" not in text                # the budget was spent before it
    searched.clear()
    resp = client.post("/v1/score/batch", json=[{"age": 50, "sex": "female", "medications": ["prednisolon"] * 40}])
    assert "Did you mean prednisolone?" in resp.get_data(as_text=True)   # a new request, a new budget
    assert len(searched) == 1                                             # one search for 40 entries


def test_a_budget_counts_distinct_names_once(kb):
    budget = suggestion_budget(3)
    for _ in range(10):
        assert kb.match_medication("prednisolon").suggestion == "prednisolone"
    assert budget.remaining == 2
    for name in _names(5):
        kb.match_medication(name)
    assert budget.remaining == 0
    assert kb.match_medication("olanzapin").suggestion is None   # over budget: reported without a hint
