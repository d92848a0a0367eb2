import csv
import io
import json

import pytest

from riskservice import create_app
from tests.batchdata import check_output, make_csv, without_trailer


def test_10000_rows_with_1000_corrupted_over_http(client):
    body, expected = make_csv()
    r = client.post("/v1/score/batch", data=body, content_type="text/csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["X-Disclaimer"].startswith("For use by qualified")
    assert check_output(without_trailer(r.get_data()), expected) == (9000, 1000)


def test_multipart_upload(client):
    body, expected = make_csv(n=200)
    r = client.post("/v1/score/batch", data={"file": (io.BytesIO(body), "patients.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 200
    assert check_output(without_trailer(r.get_data()), expected) == (180, 20)


def test_misspelt_or_missing_columns_are_422_before_scoring(client):
    r = client.post("/v1/score/batch", data=b"age,sex,wieght\n50,male,80\n", content_type="text/csv")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert "wieght" in r.get_json()["errors"]
    r = client.post("/v1/score/batch", data=b"age,bmi\n50,30\n", content_type="text/csv")
    assert r.status_code == 422 and "sex" in r.get_json()["errors"]
    r = client.post("/v1/score/batch", data=b"", content_type="text/csv")
    assert r.status_code == 422


def test_row_and_byte_limits_are_413():
    app = create_app({"TESTING": True, "BATCH_MAX_ROWS": 5, "BATCH_MAX_BYTES": 10_000})
    c = app.test_client()
    rows = b"age,sex\n" + b"50,male\n" * 6
    assert c.post("/v1/score/batch", data=rows, content_type="text/csv").status_code == 413
    assert c.post("/v1/score/batch", data=b"age,sex\n" + b"50,male\n" * 5, content_type="text/csv").status_code == 200
    big = b"age,sex,note\n" + b"50,male," + b"x" * 20_000 + b"\n"
    r = c.post("/v1/score/batch", data=big, content_type="text/csv")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"
    assert c.post("/v1/score/batch", json=[{"age": 50, "sex": "male"}] * 6).status_code == 413


def test_json_array_answers_json_lines(client):
    r = client.post("/v1/score/batch", json=[{"id": "a", "age": 52, "sex": "male", "bmi": 31.2},
                                             {"id": "b", "age": 52, "sex": "nope"}])
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert lines.pop() == {"summary": {"rows": 2, "scored": 1, "errors": 1}}   # the end marker
    assert [x["id"] for x in lines] == ["a", "b"]
    single = client.post("/v1/score", json={"age": 52, "sex": "male", "bmi": 31.2}).get_json()
    assert lines[0]["points"] == single["rules"]["points"] and lines[0]["error"] is None
    assert "probability" in lines[0]
    assert lines[0]["dysglycaemia_probability"] is not None
    assert lines[0]["leads"] == "risk_factor_estimate" and lines[0]["measured_homa_ir"] is None
    assert "sex: Must be one of" in lines[1]["error"]


def test_batch_rejects_other_content_types(client):
    r = client.post("/v1/score/batch", data=b"<xml/>", content_type="application/xml")
    assert r.status_code == 415


def test_single_and_batch_agree_on_the_acceptance_patient(client, patient):
    single = client.post("/v1/score", json=patient).get_json()
    header = list(patient)
    row = [";".join(v) if isinstance(v, list) else str(v) for v in patient.values()]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, row])
    out = list(csv.DictReader(io.StringIO(client.post("/v1/score/batch", data=buf.getvalue(),
                                                      content_type="text/csv").get_data(as_text=True))))[0]
    assert int(out["points"]) == single["rules"]["points"]
    assert out["band"] == single["rules"]["band"]
    # a valid measured HOMA-IR leads: no probability of the outcome, in both (CSV rounds floats to 6 decimals)
    assert out["leads"] == single["leads"] == "measured_homa_ir" and out["probability"] == ""
    assert float(out["measured_homa_ir"]) == pytest.approx(single["measured"]["homa_ir"]["value"], abs=5e-7)
    assert out["homa_ir_status"] == single["measured"]["homa_ir"]["status"] == "borderline"
    assert out["dysglycaemia_probability"] == "" and single["dysglycaemia"]["withheld"]
    assert float(out["homa_ir"]) == pytest.approx(single["indices"]["homa_ir"]["value"], abs=5e-7)
    assert out["mechanism_1"] == single["mechanisms"][0]["name"]


def test_batch_audience_patient_uses_plain_labels(client, kb):
    data = b"age,sex,bmi\n52,male,31.2\n"
    plain = client.post("/v1/score/batch?audience=patient", data=data, content_type="text/csv").get_data(as_text=True)
    expert = client.post("/v1/score/batch", data=data, content_type="text/csv").get_data(as_text=True)
    assert "Fat build-up in muscle and liver" in plain and "Lipid accumulation in muscle and liver" in expert
    assert plain.split("\n")[1].split(",")[:3] == expert.split("\n")[1].split(",")[:3]  # same numbers
    r = client.post("/v1/score/batch?audience=kids", data=data, content_type="text/csv")
    assert r.status_code == 422 and "audience" in r.get_json()["errors"]


# --------------------------------------------------------------------------- dialects
def rows_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(without_trailer(response.get_data()).decode(), newline="")))


COMMA = b"id,age,sex,bmi\na,52,male,31.2\nb,61,female,22\n"


def test_semicolon_and_tab_files_are_detected_and_score_like_comma(client):
    expected = [(r["id"], r["points"], r["band"]) for r in rows_of(client.post("/v1/score/batch", data=COMMA,
                                                                               content_type="text/csv"))]
    for delim, ctype in ((b";", "text/csv"), (b"\t", "text/tab-separated-values")):
        got = rows_of(client.post("/v1/score/batch", data=COMMA.replace(b",", delim), content_type=ctype))
        assert [(r["id"], r["points"], r["band"]) for r in got] == expected


def test_a_wrong_delimiter_names_the_real_one_instead_of_a_missing_age(client):
    r = client.post("/v1/score/batch?delimiter=comma", data=COMMA.replace(b",", b";"), content_type="text/csv")
    assert r.status_code == 422
    text = json.dumps(r.get_json()["errors"])
    assert "semicolon" in text and "'age' is missing" not in text


def test_decimal_comma(client):
    data = b"id;age;sex;bmi;note\na;52;male;31,2;1,5\n"
    got = rows_of(client.post("/v1/score/batch?decimal=,", data=data, content_type="text/csv"))[0]
    same = rows_of(client.post("/v1/score/batch", data=b"id,age,sex,bmi\na,52,male,31.2\n", content_type="text/csv"))[0]
    assert got["error"] == "" and got["points"] == same["points"] != "" and got["note"] == "1,5"  # passthrough as sent
    plain = rows_of(client.post("/v1/score/batch", data=data, content_type="text/csv"))[0]
    assert "'31,2' is not a number" in plain["error"]
    bad = client.post("/v1/score/batch?decimal=,&delimiter=,", data=COMMA, content_type="text/csv")
    assert bad.status_code == 422 and "decimal" in bad.get_json()["errors"]
    assert client.post("/v1/score/batch?delimiter=%23", data=COMMA, content_type="text/csv").status_code == 422


@pytest.mark.parametrize("body, ctype", [
    ("id,age,sex,note\nä,52,male,café\n".encode("utf-16"), "text/csv"),                      # BOM, no charset
    ("id,age,sex,note\nä,52,male,café\n".encode("utf-16-le"), "text/csv; charset=utf-16"),   # charset, no BOM
    ("id,age,sex,note\nä,52,male,café\n".encode("latin-1"), "text/csv; charset=ISO-8859-1"),
    (b"\xef\xbb\xbf" + "id,age,sex,note\r\nä,52,male,café\r\n".encode(), "text/csv"),
])
def test_encodings_are_read_and_answered_in_utf8(client, body, ctype):
    got = rows_of(client.post("/v1/score/batch", data=body, content_type=ctype))
    assert [(r["id"], r["note"], r["error"]) for r in got] == [("ä", "café", "")]


def test_multipart_upload_charset_is_honoured(client):
    data = {"file": (io.BytesIO("id,age,sex\né,52,male\n".encode("latin-1")), "p.csv", "text/csv; charset=latin-1")}
    got = rows_of(client.post("/v1/score/batch", data=data, content_type="multipart/form-data"))
    assert got[0]["id"] == "é" and got[0]["error"] == ""


def test_a_bad_byte_fails_its_row_only_and_unknown_charsets_are_415(client):
    got = rows_of(client.post("/v1/score/batch", data=b"id,age,sex\na,52,male\nb\xff,52,male\nc,52,male\n",
                              content_type="text/csv"))
    assert [r["error"] == "" for r in got] == [True, False, True]
    assert "not valid text" in got[1]["error"] and got[1]["id"] == "b\ufffd"
    r = client.post("/v1/score/batch", data=COMMA, content_type="text/csv; charset=ebcdic")
    assert r.status_code == 415 and r.mimetype == "application/problem+json"


def test_formula_cells_are_neutralised_unless_switched_off(client):
    data = b'id,age,sex,site\n=HYPERLINK("x"),52,male,-3\n@SUM(1),52,male,+cmd\n'
    safe = rows_of(client.post("/v1/score/batch", data=data, content_type="text/csv"))
    assert [(r["id"], r["site"]) for r in safe] == [("'=HYPERLINK(\"x\")", "-3"), ("'@SUM(1)", "'+cmd")]
    raw = rows_of(client.post("/v1/score/batch?csv_safe=false", data=data, content_type="text/csv"))
    assert [(r["id"], r["site"]) for r in raw] == [("=HYPERLINK(\"x\")", "-3"), ("@SUM(1)", "+cmd")]
    header = client.post("/v1/score/batch", data=b"=evil,age,sex\n1,52,male\n", content_type="text/csv")
    assert header.get_data(as_text=True).startswith("'=evil,points")
    assert client.post("/v1/score/batch?csv_safe=maybe", data=data, content_type="text/csv").status_code == 422


def test_column_limit_is_422_on_the_header():
    c = create_app({"TESTING": True, "MODEL": "off", "BATCH_MAX_COLUMNS": 5}).test_client()
    assert c.post("/v1/score/batch", data=b"a,b,c,age,sex\n1,2,3,50,male\n", content_type="text/csv").status_code == 200
    r = c.post("/v1/score/batch", data=b"a,b,c,d,age,sex\n1,2,3,4,50,male\n", content_type="text/csv")
    assert r.status_code == 422 and r.get_json()["title"] == "Too many columns"
    assert "6 columns exceed the limit of 5" in r.get_json()["errors"]["_header"][0]


def test_a_hundred_thousand_columns_are_refused_by_default(client):
    header = ",".join(f"c{k}" for k in range(100_000)) + ",age,sex\n"
    r = client.post("/v1/score/batch", data=header.encode() + b"0," * 100_000 + b"50,male\n", content_type="text/csv")
    assert r.status_code == 422 and "limit of 1000" in r.get_json()["errors"]["_header"][0]


def test_quoted_line_breaks_commas_and_quotes_survive_small_blocks(client, monkeypatch):
    from riskservice.rows import blocks
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 64)
    note = 'first line, with "quotes"\nsecond line\r\nthird'
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "age", "sex", "note"])
    for k in range(40):
        w.writerow([f"p{k}", 50, "male", note * (k % 3)])
    got = rows_of(client.post("/v1/score/batch", data=buf.getvalue(), content_type="text/csv"))
    assert [(r["id"], r["note"], r["error"]) for r in got] == [(f"p{k}", note * (k % 3), "") for k in range(40)]


# --------------------------------------------------------------------------- a failing block
class Injected(RuntimeError):
    pass


def fail_second_block(monkeypatch):
    """Make BatchScorer.score_table raise on its second call, with a cell value in the message."""
    from riskservice.rows import batch, blocks
    monkeypatch.setattr(blocks, "BLOCK_SIZE", 2048)
    original = batch.BatchScorer.score_table
    calls = []

    def flaky(self, table, plan):
        calls.append(table.num_rows)
        if len(calls) == 2:
            raise Injected(f"cell value {table.column('patient_id')[0].as_py()} in the message")
        return original(self, table, plan)

    monkeypatch.setattr(batch.BatchScorer, "score_table", flaky)
    return calls


def check_failed_block(body: bytes, expected, calls, request_id=None):
    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == len(expected) and len(calls) > 3
    failed = [k for k, r in enumerate(rows) if "could not be scored because of an internal error" in r["error"]]
    assert len(failed) == calls[1]  # exactly the second block's readable rows
    assert failed == list(range(failed[0], failed[0] + len(failed)))
    for k, (row, (kind, _, pid)) in enumerate(zip(rows, expected)):
        if kind == "ok":
            assert row["patient_id"] == pid  # the passthrough id is kept, even on failed rows
        if k in failed:
            assert row["points"] == "" and (request_id is None or f"request id {request_id}" in row["error"])
        elif kind == "ok":
            assert row["error"] == "" and row["points"] != ""
    return failed


def test_a_block_that_fails_becomes_error_rows_and_the_stream_goes_on(client, monkeypatch, caplog):
    calls = fail_second_block(monkeypatch)
    body, expected = make_csv(n=600)
    r = client.post("/v1/score/batch", data=body, content_type="text/csv", headers={"X-Request-ID": "inject-1"})
    assert r.status_code == 200
    failed = check_failed_block(without_trailer(r.get_data()), expected, calls, request_id="inject-1")
    logged = [rec for rec in caplog.records if rec.name == "riskservice.batch"]
    assert len(logged) == 1 and logged[0].request_id == "inject-1"
    text = logged[0].getMessage()
    assert "Injected" in text and "flaky <- batch.py" in text and "_score_block" in text  # type and stack
    pid = expected[failed[0]][2]
    assert "cell value" not in text and pid not in text  # the exception's message is never logged


def test_a_reader_failure_ends_the_csv_with_an_error_row_not_a_cut_body(client, monkeypatch):
    from riskservice.csvio import records

    def broken(*args, **kwargs):
        raise MemoryError("cell value in the message")

    monkeypatch.setattr(records, "read_exact", broken)
    data = b'id,age,sex,note\na,52,male,x\nb,52,male,"two\nlines"\nc,52,male,x\n'
    got = rows_of(client.post("/v1/score/batch", data=data, content_type="text/csv",
                              headers={"X-Request-ID": "stop-1"}))
    assert [r["id"] for r in got] == ["a", ""] and got[0]["error"] == ""
    assert "reading stopped at line 3" in got[1]["error"] and "request id stop-1" in got[1]["error"]
