"""The page under the real server: gunicorn with the production config and two workers.

A SMART launch spans requests (launch -> EHR -> callback) that may land on different workers;
the preloaded app shares one signing key, so every launch completes. The logs carry no patient
value and no authorization code.
"""
from __future__ import annotations

import urllib.parse

import pytest
import requests

from tests.realserver import RealServer

from .conftest import AS_OF
from .ehr_server import LocalEhr


@pytest.fixture(scope="module")
def ehr():
    server = LocalEhr().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gunicorn(ehr, tmp_path_factory):
    with RealServer(tmp_path_factory.mktemp("gunicorn-web") / "server.log", unset=("RISKSERVICE_SECRET_KEY",),
                    WEB_CONCURRENCY="2", RISKSERVICE_SMART_ISSUERS=ehr.fhir_base,
                    RISKSERVICE_SMART_AS_OF=AS_OF) as real:
        yield real.base, real.log_path


def launch_once(base: str, ehr: LocalEhr) -> requests.Response:
    with requests.Session() as browser:
        query = urllib.parse.urlencode({"iss": ehr.fhir_base, "launch": ehr.new_launch()})
        to_ehr = browser.get(f"{base}/launch?{query}", allow_redirects=False, timeout=10)
        assert to_ehr.status_code == 302 and to_ehr.headers["Location"].startswith(ehr.base + "/auth/authorize")
        back = browser.get(to_ehr.headers["Location"], allow_redirects=False, timeout=10)
        assert back.status_code == 302
        return browser.get(back.headers["Location"], allow_redirects=False, timeout=30)


def test_smart_launches_complete_across_workers(gunicorn, ehr):
    base, log = gunicorn
    for _ in range(6):
        page = launch_once(base, ehr)
        assert page.status_code == 200, page.text[:500]
        assert 'id="band"' in page.text and "What came from the EHR" in page.text
    text = log.read_text()
    assert "code=" not in text and "state=" not in text  # nothing of the authorization answer is logged
    assert "p-complete" not in text                        # nor the patient id


def test_form_scores_under_gunicorn(gunicorn):
    base, log = gunicorn
    page = requests.post(base + "/", data={"age": "47", "sex": "female", "waist": "93.4567", "hs_crp": "6.2", "hs_crp_unit": "mg/L"},
                         timeout=30)
    assert page.status_code == 200 and 'id="band"' in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    bad = requests.post(base + "/", data={"age": "forty-seven", "sex": "female"}, timeout=30)
    assert bad.status_code == 422 and 'id="err-age"' in bad.text
    # 4 decimals: the access log rounds latencies to 3, so no timing can contain the value by chance
    assert "93.4567" not in log.read_text() and "forty-seven" not in log.read_text()


def test_static_files_are_served_under_gunicorn(gunicorn):
    """The worker writes every answer through its WriteGate; a file answer is an iterable (the WSGI
    file wrapper), not an iterator, and must be served whole (it was a 500)."""
    base, _ = gunicorn
    for path in ("/static/web/web.css", "/static/web/web.js", "/docs/docs.css"):
        r = requests.get(base + path, timeout=10)
        assert r.status_code == 200 and len(r.content) > 100, (path, r.status_code)
