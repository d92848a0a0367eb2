"""Issue 22, findings 2 and 8: a JSON array is checked, then answered block by block; every batch answer
ends with an in-band end marker; the access log records a stream when it ends, completed or aborted,
with its byte and row counts; a stream cut by a killed worker is recognisably incomplete."""
from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import socket
import time

import pytest

from riskservice.rows import jsonarray
from tests.batchdata import without_trailer
from tests.realserver import RealServer

CSV_HEADER = "id,age,sex,bmi,waist\n"


def csv_body(rows: int) -> bytes:
    return (CSV_HEADER + "".join(f"p{i},{30 + i % 50},{'male' if i % 2 else 'female'},{20 + i % 15},{80 + i % 40}\n"
                                 for i in range(rows))).encode()


# ----------------------------------------------------------------------------- the JSON array reader
@pytest.mark.parametrize("text", [b"[]", b" [ 1 , {\"a\": \"x,]\\\"y\"} , [2, [3]] ]\n", b'["\\\\", "a\\\\\\"b"]'])
def test_elements_are_found_whatever_the_chunk_size(text):
    want = json.loads(text)
    for chunk in (1, 2, 3, 7, 1 << 20):
        found = jsonarray.scan(io.BytesIO(text), 20, chunk=chunk)
        assert [json.loads(text[s:e]) for s, e in zip(found.starts, found.ends)] == want


@pytest.mark.parametrize("text", [b"", b"{}", b"[1", b"[1]]", b"[1] x", b"x [1]", b'[1, "abc]', b"[1][2]",
                                  b"[" * 30 + b"]" * 30])
def test_a_body_that_is_not_one_array_is_refused_before_any_row(text):
    with pytest.raises(jsonarray.ArrayError):
        jsonarray.scan(io.BytesIO(text), 20, chunk=3)


def test_deep_nesting_and_too_many_rows_are_refused_before_any_row(client):
    deep = client.post("/v1/score/batch", data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    assert deep.status_code == 400 and "nested deeper" in deep.get_json()["detail"]
    many = client.post("/v1/score/batch", data=b"[" + b",".join([b'{"age":50,"sex":"male"}'] * 10) + b"]",
                       content_type="application/json")
    assert many.status_code == 200
    from riskservice import create_app
    small = create_app({"TESTING": True, "MODEL": "off", "BATCH_MAX_ROWS": 5}).test_client()
    r = small.post("/v1/score/batch", data=b"[" + b",".join([b'{"age":50,"sex":"male"}'] * 6) + b"]",
                   content_type="application/json")
    assert r.status_code == 413 and r.mimetype == "application/problem+json"


def test_records_the_reader_refuses_are_their_rows_errors_and_the_rest_is_scored(client):
    records = [b'{"id":1,"age":52,"sex":"male","sex":"female"}', b'{"id":2,"age":52,"sex":"male","bmi":NaN}',
               b'{"id":3,"age":52,"sex":"male","bmi":' + b"9" * 400 + b"}", b'{"id":4,"age":52,"sex":"male"}']
    r = client.post("/v1/score/batch", data=b"[" + b",".join(records) + b"]", content_type="application/json")
    lines = [json.loads(x) for x in r.get_data(as_text=True).splitlines()]
    assert lines.pop() == {"summary": {"rows": 4, "scored": 1, "errors": 3}}
    assert [x["row"] for x in lines] == [1, 2, 3, 4]
    assert "duplicate key 'sex'" in lines[0]["error"] and "NaN" in lines[1]["error"]
    assert "beyond the range" in lines[2]["error"] and lines[3]["error"] is None and lines[3]["id"] == 4


def test_a_misspelt_key_is_a_422_in_the_first_block_and_its_rows_error_later(client, monkeypatch):
    from riskservice.api import batchjson
    monkeypatch.setattr(batchjson, "BLOCK", 2)
    good, bad = {"age": 52, "sex": "male"}, {"age": 52, "sex": "male", "bmii": 31}
    first = client.post("/v1/score/batch", json=[bad, good, good])
    assert first.status_code == 422 and "bmii" in first.get_json()["errors"]   # as a CSV header would be
    later = client.post("/v1/score/batch", json=[good, good, bad, good])
    rows = [json.loads(x) for x in later.get_data(as_text=True).splitlines()]
    assert rows.pop() == {"summary": {"rows": 4, "scored": 3, "errors": 1}}
    assert "bmii" in rows[2]["error"] and rows[3]["error"] is None   # the rows before were answered already


def test_blocks_are_numbered_across_the_array(client, monkeypatch):
    from riskservice.api import batchjson
    monkeypatch.setattr(batchjson, "BLOCK", 7)
    data = json.dumps([{"id": i, "age": 40 + i % 30, "sex": "female"} for i in range(50)]).encode()
    lines = client.post("/v1/score/batch", data=data, content_type="application/json").get_data(as_text=True)
    rows = [json.loads(x) for x in lines.splitlines()]
    assert rows.pop() == {"summary": {"rows": 50, "scored": 50, "errors": 0}}
    assert [r["row"] for r in rows] == list(range(1, 51)) and [r["id"] for r in rows] == list(range(50))


def test_trailer_false_leaves_the_marker_out(client):
    r = client.post("/v1/score/batch?trailer=false", data=csv_body(3), content_type="text/csv")
    assert "#riskservice-end" not in r.get_data(as_text=True) and r.get_data(as_text=True).count("\n") == 4
    assert client.post("/v1/score/batch?trailer=maybe", data=csv_body(3), content_type="text/csv").status_code == 422


# ----------------------------------------------------------------------------- streams through gunicorn
def _access(log: str) -> list:
    return [json.loads(line) for line in log.splitlines()
            if '"riskservice.access"' in line and '"/v1/score/batch"' in line]


def _post(server, body: bytes, ctype: str):
    sock = socket.create_connection((server.host, server.port), timeout=30)
    sock.sendall((f"POST /v1/score/batch HTTP/1.1\r\nHost: t\r\nContent-Type: {ctype}\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body)
    resp = http.client.HTTPResponse(sock, method="POST")
    resp.begin()
    return sock, resp


def _wait_for(predicate, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    return predicate()


@pytest.mark.slow
def test_streams_are_logged_when_they_end_and_a_killed_worker_leaves_no_end_marker(tmp_path):
    rows = 40_000
    body = csv_body(rows)
    with RealServer(tmp_path / "server.log", RISKSERVICE_MODEL="off", GUNICORN_WRITE_TIMEOUT="3") as server:
        # 1. read in full: the CSV ends with its marker; the access line says completed, with every row
        sock, resp = _post(server, body, "text/csv")
        data = resp.read()
        sock.close()
        assert len(without_trailer(data).splitlines()) == rows + 1
        done = _wait_for(lambda: [a for a in _access(server.log_text()) if a.get("stream") == "completed"])
        assert done[-1]["rows"] == rows and done[-1]["response_bytes"] == len(data) and done[-1]["status"] == 200
        assert done[-1]["sent_bytes"] > len(data)   # the headers and the chunk framing too

        # 2. the client reads 64 kB and leaves: the line says aborted, with what was produced so far
        sock, resp = _post(server, body, "text/csv")
        part = resp.read(65536)
        sock.close()
        assert b"#riskservice-end" not in part
        cut = _wait_for(lambda: [a for a in _access(server.log_text()) if a.get("stream") == "aborted"])
        assert cut and 0 < cut[-1]["rows"] <= rows and cut[-1]["response_bytes"] > 0

        # 3. the worker is killed mid-stream: the answer stops without its marker
        records = b"[" + b",".join(b'{"age":%d,"sex":"male","bmi":%d}' % (30 + i % 50, 20 + i % 15)
                                   for i in range(200_000)) + b"]"
        sock, resp = _post(server, records, "application/json")
        got = resp.readline()
        pid = int(re.findall(r"Booting worker with pid: (\d+)", server.log_text())[-1])
        os.kill(pid, signal.SIGKILL)
        try:
            while chunk := resp.read(1 << 16):
                got += chunk
        except (http.client.IncompleteRead, ConnectionError) as exc:
            got += getattr(exc, "partial", b"")
        sock.close()
        assert got and b'{"summary"' not in got   # recognisably cut: no summary line
        assert not got.endswith(b"\n") or not got.rstrip().splitlines()[-1].startswith(b'{"summary"')
    assert "Traceback" not in server.log_text()
