"""Browser-test fixtures: the real app behind the shipped nginx on 127.0.0.1, the test EHR, headless
Debian Chromium.

Chromium and its driver come from Debian (``apt-get install chromium chromium-driver``;
``.ci/run`` installs them). Nothing is downloaded at run time: Selenium is given the driver
and browser paths, so Selenium Manager is never asked. Without them the browser tests skip
locally, and fail under CI (CI=true) so a missing install cannot pass unnoticed.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from riskservice.deploy import serve
from tests.proxyserver import ProxiedServer
from tests.realserver import RealServer

from .ehr_server import LocalEhr

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
AS_OF = "2026-11-20"  # the fixtures' observations are dated 2026-10; fixed, so no clock is read


def _chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env
    return next((p for p in CHROMIUM_CANDIDATES if Path(p).exists()), None)


@pytest.fixture(scope="session")
def test_ehr():
    ehr = LocalEhr().start()
    yield ehr
    ehr.stop()


@pytest.fixture(scope="session")
def live_server(test_ehr, tmp_path_factory, two_model_dir):
    """The riskservice app as it is deployed: production gunicorn behind the shipped nginx
    (tests/proxyserver.py) on free loopback ports. Without nginx (locally), gunicorn alone. Both
    models: the insulin-resistance one is the test fixture until the real one ships in models/."""
    env = {"RISKSERVICE_SMART_ISSUERS": test_ehr.fhir_base, "RISKSERVICE_SMART_AS_OF": AS_OF,
           "RISKSERVICE_SECRET_KEY": os.urandom(32).hex(), "RISKSERVICE_MODEL_DIR": str(two_model_dir)}
    log = tmp_path_factory.mktemp("live") / "server.log"
    if serve.nginx_binary() is None and not os.environ.get("CI"):
        server = RealServer(log, **env)
    else:
        server = ProxiedServer(log, **env)
    server_env = server.upstream.env if isinstance(server, ProxiedServer) else server.env
    server_env["RISKSERVICE_PUBLIC_BASE_URL"] = server.base   # the address the browser uses
    with server:
        yield server.base


@pytest.fixture(scope="session")
def download_dir():
    path = tempfile.mkdtemp(prefix="riskservice-dl-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(download_dir):
    chromium = _chromium()
    if not (chromium and Path(CHROMEDRIVER).exists()):
        message = "chromium / chromium-driver not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="riskservice-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1280,1000", "--force-device-scale-factor=1", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
