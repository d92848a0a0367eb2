"""The real thing: gunicorn with the production config on a free port, one POST."""
import json
import time
import urllib.request

import pytest

from tests.conftest import ACCEPTANCE_PATIENT
from tests.realserver import RealServer

pytestmark = pytest.mark.slow  # starts a real gunicorn with two workers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with RealServer(tmp_path_factory.mktemp("gunicorn") / "server.log", WEB_CONCURRENCY="2") as real:
        yield real.base, real.proc, real.log_path


def post(url, body: bytes, ctype="application/json"):
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def test_gunicorn_serves_a_score(server):
    base, _, _ = server
    status, headers, body = post(base + "/v1/score", json.dumps(ACCEPTANCE_PATIENT).encode())
    assert status == 200
    assert abs(body["indices"]["homa_ir"]["value"] - 3.595) < 5e-4
    assert body["disclaimer"] and headers["X-Request-ID"]


def test_gunicorn_returns_problem_json(server):
    base, _, _ = server
    status, headers, body = post(base + "/v1/score", b'{"age": 5, "sex": "male"}')
    assert status == 422 and headers["Content-Type"].startswith("application/problem+json")
    assert "age" in body["errors"]


def get_text(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def test_gunicorn_output_carries_no_patient_value(server):
    from tests.prod.test_observability import DISTINCTIVE, NEEDLES, without_clock
    base, _, log = server
    assert post(base + "/v1/score", json.dumps(DISTINCTIVE).encode())[0] == 200
    assert post(base + "/v1/score", json.dumps({**DISTINCTIVE, "age": 5.4321}).encode())[0] == 422
    time.sleep(0.3)
    text = log.read_text()
    for needle in NEEDLES + ["5.4321"]:
        assert needle not in without_clock(text), f"{needle} leaked into the server output"
    access = [json.loads(line) for line in text.splitlines() if '"riskservice.access"' in line]
    assert {a["status"] for a in access if a["route"] == "/v1/score"} >= {200, 422}


def test_gunicorn_metrics_add_up_every_worker(server):
    base, _, _ = server
    for _ in range(20):  # two workers: both answer some of these
        urllib.request.urlopen(base + "/healthz", timeout=5).read()
    text = get_text(base + "/metrics")
    line = next(x for x in text.splitlines()
                if x.startswith('riskservice_http_requests_total{method="GET",route="/healthz",status="200"}'))
    assert float(line.rsplit(" ", 1)[1]) >= 20
    assert 'riskservice_build_info{model_id="nhanes1718_dysglycaemia_logreg"' in text
    assert json.loads(get_text(base + "/readyz"))["status"] == "ready"
