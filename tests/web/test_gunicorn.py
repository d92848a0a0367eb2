"""The page under the real server: gunicorn with the production config and two workers.

A SMART launch spans requests (launch -> EHR -> callback) that may land on different workers;
the preloaded app shares one signing key, so every launch completes. The logs carry no patient
value and no authorization code.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
import requests

from tests.test_server import free_port

from .conftest import AS_OF
from .ehr_server import LocalEhr


@pytest.fixture(scope="module")
def ehr():
    server = LocalEhr().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gunicorn(ehr, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn-web") / "server.log"
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2",
           "RISKSERVICE_SMART_ISSUERS": ehr.fhir_base, "RISKSERVICE_SMART_AS_OF": AS_OF}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("RISKSERVICE_SECRET_KEY", None)
    out = log.open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "python:riskservice.gunicorn_conf",
                             "riskservice:create_app()"], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(base + "/healthz", timeout=1)
            break
        except requests.RequestException:
            if proc.poll() is not None:
                pytest.fail(log.read_text())
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not come up")
    yield base, log
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    out.close()


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
    page = requests.post(base + "/", data={"age": "47", "sex": "female", "waist": "93.5", "hs_crp": "6.2"},
                         timeout=30)
    assert page.status_code == 200 and 'id="band"' in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    bad = requests.post(base + "/", data={"age": "forty-seven", "sex": "female"}, timeout=30)
    assert bad.status_code == 422 and 'id="err-age"' in bad.text
    assert "93.5" not in log.read_text() and "forty-seven" not in log.read_text()
