"""Requests gunicorn's HTTP parser refuses: problem+json with gunicorn's status, and a log line that
names only the kind of error (the parser's own message quotes the offending header or line)."""
import json

import pytest
from gunicorn.http import errors as http_errors

from riskservice import framing_errors
from tests.realserver import RealServer
from tests.security.corpus import send

MARKER = "31.2371"
CASES = [
    ({"name": "bad header name", "path": "/v1/score", "body": "{}", "headers": {f"X Patient {MARKER}": "x"}}, 400),
    ({"name": "bad version", "method": "GET", "path": f"/healthz?bmi={MARKER} HTTP/9.9 x"}, 400),
    ({"name": "negative length", "path": "/v1/score", "body": "{}", "content_length": -5}, 400),
    ({"name": "long line", "method": "GET", "path": f"/healthz?bmi={MARKER}&" + "x" * 5000}, 414),
]


@pytest.mark.parametrize("exc,status", [
    (http_errors.InvalidHeaderName("x"), 400), (http_errors.LimitRequestLine(9000, 4094), 414),
    (http_errors.LimitRequestHeaders("too many"), 431), (http_errors.UnsupportedTransferCoding("gzip"), 501),
])
def test_status_is_gunicorns(exc, status):
    assert framing_errors.is_client_error(exc)
    assert framing_errors.status_of(exc)[0] == status


def test_server_faults_stay_gunicorns_to_report():
    assert not framing_errors.is_client_error(http_errors.InvalidResponseHeader("x"))
    assert not framing_errors.is_client_error(RuntimeError("x"))


@pytest.mark.parametrize("worker", ["gthread", "sync"])
def test_refused_requests_get_problem_json_and_no_input_in_the_log(tmp_path, worker):
    with RealServer(tmp_path / "server.log", GUNICORN_WORKER_CLASS=worker) as server:
        for case, status in CASES:
            answer = send(server.host, server.port, case)
            assert answer.status == status, case["name"]
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["connection"] == "close"
            problem = json.loads(answer.body)
            assert problem["status"] == status and problem["title"] and MARKER not in answer.body.decode()
            assert problem["request_id"] == answer.headers["x-request-id"]
        log = server.log_text()
    refused = [json.loads(line) for line in log.splitlines() if '"riskservice.framing"' in line]
    assert [r["error_type"] for r in refused] == ["InvalidHeaderName", "InvalidHTTPVersion", "InvalidHeader",
                                                   "LimitRequestLine"]
    assert MARKER not in log and "Traceback" not in log


def test_a_fault_that_escapes_the_app_is_a_500_problem_without_its_message(caplog):
    try:
        raise RuntimeError(f"could not convert {MARKER}")
    except RuntimeError as exc:
        raw = framing_errors.answer(exc)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 500 ") and b"application/problem+json" in head
    assert json.loads(body)["status"] == 500 and MARKER.encode() not in raw
    (record,) = [r for r in caplog.records if r.name == "riskservice.framing"]
    assert record.error_type == "RuntimeError" and record.stack and MARKER not in repr(record.__dict__)
