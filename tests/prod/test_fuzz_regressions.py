"""Inputs the long fuzz run (make fuzz) found to give a 5xx, kept as regression tests."""


def test_batch_header_with_a_bare_carriage_return_is_422_not_500(client):
    r = client.post("/v1/score/batch", data="EY¾\r\x0b#%²🛩\x01".encode(), content_type="text/csv")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "_header" in r.get_json()["errors"]


def test_a_carriage_return_in_a_passthrough_header_stays_inside_its_quotes(client):
    """Found by make fuzz: a header cell holding only a CR was written unquoted, so a CSV reader
    saw one more (empty) row than records."""
    import csv
    import io
    r = client.post("/v1/score/batch", data=b'age,sex,bmi,"\r"\n52,male,31,x\n', content_type="text/csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True), newline="")))
    assert rows.pop()[0].startswith("#riskservice-end rows=1 ")   # the end marker, one field
    assert len(rows) == 2 and rows[1][1] != ""
