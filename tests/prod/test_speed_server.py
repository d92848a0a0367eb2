"""Issue 13 through a real gunicorn: compression when asked, a batch that still streams
(chunked, uncompressed) when the client accepts gzip, and recycled workers that leave cleanly."""
import gzip
import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.conftest import ACCEPTANCE_PATIENT
from tests.realserver import RealServer

pytestmark = pytest.mark.slow  # starts a real gunicorn


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RealServer(tmp_path_factory.mktemp("gunicorn") / "server.log", WEB_CONCURRENCY="2") as real:
        yield real.base


def request(base, method, path, body=None, headers=None):
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def test_full_answer_compressed_only_when_asked(server):
    body = json.dumps(ACCEPTANCE_PATIENT).encode()
    plain, plain_data = request(server, "POST", "/v1/score", body, {"Content-Type": "application/json"})
    packed, packed_data = request(server, "POST", "/v1/score", body,
                                  {"Content-Type": "application/json", "Accept-Encoding": "gzip"})
    assert plain.status == packed.status == 200
    assert plain.getheader("Content-Encoding") is None and packed.getheader("Content-Encoding") == "gzip"
    assert len(packed_data) < len(plain_data) / 2
    a, b = json.loads(plain_data), json.loads(gzip.decompress(packed_data))
    a["meta"].pop("request_id"), b["meta"].pop("request_id")
    assert a == b


def test_batch_streams_uncompressed_even_when_gzip_is_accepted(server):
    rows = 20_000
    csv = "id,age,sex,bmi\n" + "".join(f"r{i},{30 + i % 50},{('male', 'female')[i % 2]},{20 + i % 20}\n"
                                       for i in range(rows))
    resp, data = request(server, "POST", "/v1/score/batch", csv.encode(),
                         {"Content-Type": "text/csv", "Accept-Encoding": "gzip, br, zstd"})
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked" and resp.getheader("Content-Length") is None
    assert resp.getheader("Content-Encoding") is None
    lines = data.decode().splitlines()
    assert lines.pop() == f"#riskservice-end rows={rows} scored={rows} errors=0"   # the end marker
    assert lines[0].startswith("id,points,") and len(lines) == rows + 1 and lines[-1].startswith(f'"r{rows - 1}",')


def test_recycled_workers_exit_cleanly_and_nothing_is_lost(tmp_path):
    with RealServer(tmp_path / "server.log", WEB_CONCURRENCY="2", GUNICORN_MAX_REQUESTS="15",
                    GUNICORN_MAX_REQUESTS_JITTER="1") as real:
        body = json.dumps(ACCEPTANCE_PATIENT).encode()
        statuses = [request(real.base, "POST", "/v1/score?view=summary", body,
                            {"Content-Type": "application/json"})[0].status for _ in range(80)]
    text = real.log_text()
    assert statuses == [200] * 80
    # 80 requests at most 16 per worker lifetime: at least 5 lifetimes (2 first boots, 3 recycles)
    assert text.count("Worker exiting") >= 4 and text.count("Booting worker") >= 5
    assert "Exception during worker exit" not in text and "Traceback" not in text
