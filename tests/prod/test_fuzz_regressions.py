"""Inputs the long fuzz run (make fuzz) found to give a 5xx, kept as regression tests."""


def test_batch_header_with_a_bare_carriage_return_is_422_not_500(client):
    r = client.post("/v1/score/batch", data="EY¾\r\x0b#%²🛩\x01".encode(), content_type="text/csv")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "_header" in r.get_json()["errors"]
