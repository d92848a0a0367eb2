"""Memory stays flat under load: the per-process memo tables stop growing once every
sex/ethnicity combination has been seen (the load benchmark measures worker RSS)."""
from riskservice.core import indices, rules


def test_memo_tables_do_not_grow_with_requests(client, patient):
    for _ in range(3):
        client.post("/v1/score", json=patient)
    sizes = len(rules._VARIANT_CACHE), len(indices._CUTOFF_TABLES)
    for _ in range(50):
        client.post("/v1/score", json=patient)
    assert (len(rules._VARIANT_CACHE), len(indices._CUTOFF_TABLES)) == sizes
