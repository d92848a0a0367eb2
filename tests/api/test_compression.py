"""Large answers are compressed when the client accepts it (Flask-Compress); small ones and
streamed batch answers are sent as they are (issue 13 section 1)."""
import gzip
import json

import brotli
import pytest
from backports import zstd

DECODERS = {"gzip": gzip.decompress, "br": brotli.decompress, "zstd": zstd.decompress}


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_full_answer_is_compressed_when_asked(client, patient, encoding):
    plain = client.post("/v1/score", json=patient, headers={"X-Request-ID": "same"})
    packed = client.post("/v1/score", json=patient, headers={"X-Request-ID": "same", "Accept-Encoding": encoding})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    assert json.loads(DECODERS[encoding](packed.data)) == plain.get_json()


def test_client_preference_wins(client, patient):
    r = client.post("/v1/score", json=patient, headers={"Accept-Encoding": "gzip;q=1.0, br;q=0.5"})
    assert r.headers["Content-Encoding"] == "gzip"


def test_not_compressed_unless_asked(client, patient):
    for headers in ({}, {"Accept-Encoding": "identity"}):
        r = client.post("/v1/score", json=patient, headers=headers)
        assert "Content-Encoding" not in r.headers
        assert r.get_json()["rules"]["points"] > 0


def test_summary_stays_plain(client, patient):
    r = client.post("/v1/score?view=summary", json=patient, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in r.headers and r.get_json()["view"] == "summary"


def test_problem_answers_are_readable_whatever_the_encoding(client):
    r = client.post("/v1/score", json={"age": 15}, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 422 and "Content-Encoding" not in r.headers and r.get_json()["errors"]


def test_openapi_document_is_compressed(client):
    r = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(r.data))["openapi"].startswith("3.1")


@pytest.mark.parametrize("encoding", [None, "gzip, br, zstd"])
def test_batch_still_streams(client, encoding):
    """Flask-Compress would run a stream through one compressor (rows held back until its
    buffer fills); the app turns that off, so the batch streams uncompressed, chunk by chunk."""
    body = "age,sex,bmi\n" + "".join(f"{40 + i % 40},male,{20 + i % 15}\n" for i in range(500))
    headers = {"Accept-Encoding": encoding} if encoding else {}
    r = client.post("/v1/score/batch", data=body, content_type="text/csv", headers=headers, buffered=False)
    assert r.status_code == 200 and r.is_streamed
    assert "Content-Encoding" not in r.headers and "Content-Length" not in r.headers
    chunks = list(r.response)
    r.close()
    assert len(chunks) >= 2   # the header line goes out before the first scored block
    text = b"".join(chunks).decode()
    assert text.startswith("points,max_points,band,") and text.count("\n") == 502
    assert text.endswith("#riskservice-end rows=500 scored=500 errors=0\n")   # the end marker
