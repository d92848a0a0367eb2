"""Memory stays flat under load: the engine's only per-process memo (medication lists to drug
classes) stops growing for repeated lists and is capped for distinct ones (the load
benchmark measures worker RSS)."""
from riskservice.core.engine import medications, pipeline


def test_memo_tables_do_not_grow_with_requests(app, client, patient):
    engine = app.extensions["riskservice"].engine
    for _ in range(3):
        client.post("/v1/score", json=patient)
    sizes = len(engine._med_cache), len(pipeline._ENGINES)
    for _ in range(50):
        client.post("/v1/score", json=patient)
    assert (len(engine._med_cache), len(pipeline._ENGINES)) == sizes


def test_medication_memo_is_capped(app, monkeypatch):
    engine = app.extensions["riskservice"].engine
    monkeypatch.setattr(medications, "MED_CACHE_LIMIT", len(engine._med_cache) + 5)
    for k in range(20):
        engine.classes_of([f"unknown drug {k}"])
    assert len(engine._med_cache) <= medications.MED_CACHE_LIMIT
