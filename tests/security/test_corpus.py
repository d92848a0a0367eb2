"""Every case of the hostile-input corpus against a real gunicorn (production config): the expected
4xx problem+json (or the documented safe answer), never a 5xx, never a truncated body, and no
input value in the server's output."""
from __future__ import annotations

import json
import time

import pytest

from riskservice.deploy import serve
from tests.proxyserver import ProxiedServer, require_nginx
from tests.realserver import RealServer

from .corpus import MARKERS, cases, send

ALL = cases()


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    logs = tmp_path_factory.mktemp("corpus")
    main = RealServer(logs / "main.log", RISKSERVICE_PUBLIC_BASE_URL="https://cds.example.org",
                      RISKSERVICE_BATCH_MAX_BYTES="1000000", RISKSERVICE_BATCH_JSON_MAX_BYTES="1000000", RISKSERVICE_BODY_READ_SECONDS="2",
                      GUNICORN_HEADER_TIMEOUT="2")
    keyed = RealServer(logs / "keyed.log", RISKSERVICE_MODEL="off", RISKSERVICE_API_KEYS="corpus-key",
                       RISKSERVICE_CORS_ORIGINS="https://ehr.example.org")
    with main, keyed:
        if serve.nginx_binary() is None:
            yield {"main": main, "keyed": keyed}
            return
        # The same two servers behind the shipped nginx configuration (the deployment we ship).
        with ProxiedServer(upstream=main, batch_max_body="1000000") as pmain, ProxiedServer(upstream=keyed) as pkeyed:
            yield {"main": main, "keyed": keyed, "proxy:main": pmain, "proxy:keyed": pkeyed}


def _id(item):
    surface, case = item
    return f"{surface}: {case['name']}"


def _param(item, via):
    marks = [pytest.mark.xfail(reason=item[1]["known_failure"], strict=True)] if item[1].get("known_failure") else []
    return pytest.param(item, via, marks=marks, id=f"{via}: {_id(item)}")


def _through_proxy(case):
    """The case as sent through nginx: its ``proxy`` overrides applied; None when nginx answers it
    by a rule of its own that the case says (``proxy_skip``), e.g. its own slow-client timeouts."""
    if case.get("proxy_skip"):
        return None
    return {**case, **(case.get("proxy") or {})}


@pytest.mark.parametrize("item, via", [_param(i, via) for via in ("direct", "proxy") for i in ALL])
def test_corpus_case(servers, item, via):
    _surface, case = item
    name = case.get("server", "main")
    if via == "proxy":
        require_nginx()
        case = _through_proxy(case)
        if case is None:
            pytest.skip(item[1]["proxy_skip"])
        name = "proxy:" + name
    server = servers[name]
    before = len(server.log_text())
    answer = send(server.host, server.port, case)
    assert answer.status < 500, f"{answer.status}: {answer.body[:300]!r}"  # 0: closed without an answer
    assert answer.status in case["expect"], f"{answer.status}: {answer.body[:300]!r}"
    ctype = answer.headers.get("content-type", "")
    if answer.status >= 400 and not case.get("framing"):
        assert ctype.startswith("application/problem+json"), ctype
        problem = answer.json()
        assert problem["status"] == answer.status and problem["title"]
        if case.get("detail_contains"):
            assert case["detail_contains"] in problem.get("detail", "")
    elif "json" in ctype and "ndjson" not in ctype:
        answer.json()  # complete, parseable: never a truncated body
    if answer.status == 200 and case.get("lines") is not None:
        text = answer.body.decode("utf-8")
        assert text.endswith("\n")
        lines = text.splitlines()
        if case["path"].startswith("/v1/score/batch"):   # the answer is complete: it ends with its marker
            end = lines.pop()
            assert end.startswith("#riskservice-end rows=") or end.startswith('{"summary":'), end
        assert len(lines) == case["lines"]
    text = answer.body.decode("utf-8", "replace")
    if case.get("body_contains"):
        assert case["body_contains"] in text
    for bad in case.get("not_in_body") or ():
        assert bad not in text
    for bad in case.get("not_in_headers") or ():
        assert all(bad not in v for v in answer.headers.values())
    if case.get("max_seconds"):
        assert answer.seconds < case["max_seconds"]
    new_log = server.log_text()[before:]
    if case.get("access_logged") and via == "direct":
        time.sleep(0.2)
        new_log = server.log_text()[before:]
        assert f'"status":{answer.status}' in new_log and '"riskservice.access"' in new_log
    assert "Traceback" not in new_log and "WORKER TIMEOUT" not in new_log
    for marker in MARKERS:
        assert marker not in new_log, f"input value {marker!r} reached the log"


def test_every_surface_has_a_corpus_file():
    assert {s for s, _ in ALL} == {"json", "csv", "fhir", "cds", "headers"}
    assert all(case["expect"] and all(400 <= s < 500 or s in (0, 200, 204) for s in case["expect"]) for _, case in ALL)


def test_no_corpus_case_expects_a_5xx():
    assert not [c["name"] for _, c in ALL if any(s >= 500 for s in c["expect"])]
    json.dumps([c for _, c in ALL])  # the corpus is plain data
