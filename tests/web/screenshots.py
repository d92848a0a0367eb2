"""Regenerate the page screenshots in docs/screenshots/ (not a test).

    PYTHONPATH=. python -m tests.web.screenshots [docs/screenshots]

Starts the app and the local test EHR on 127.0.0.1, drives headless Chromium through the main
views at the sizes the layout tests measure (1366x768, 390x844) and saves PNGs. Needs Debian's
chromium and chromium-driver.
"""
from __future__ import annotations

import base64
import os
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from riskservice.app import build_app

from .browser import click_and_load, wait_visible
from .conftest import AS_OF, CHROMEDRIVER, _chromium
from .ehr_server import LocalEhr
from .test_browser import PATIENT, UNITS, fill


def _driver():
    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 "--window-size=1366,768", "--force-device-scale-factor=1",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='riskservice-shots-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def _size(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700})


def _shot(driver, path: Path) -> None:
    """What the current viewport shows (the sticky disclaimer bar at its bottom)."""
    path.write_bytes(base64.b64decode(driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]))
    print("wrote", path)


def _tall(driver, path: Path, width: int, height: int, top_id: str | None = None) -> None:
    """A viewport ``height`` tall (starting at the element ``top_id`` when given)."""
    _size(driver, width, height)
    if top_id:
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", top_id)
    else:
        driver.execute_script("window.scrollTo(0, 0)")
    _shot(driver, path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ehr = LocalEhr().start()
    app = build_app({"SMART_ISSUERS": ehr.fhir_base, "SMART_AS_OF": AS_OF, "SECRET_KEY": os.urandom(32)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    driver = _driver()
    try:
        _size(driver, 1366, 768)
        driver.get(base + "/")
        _tall(driver, out / "form.png", 1366, 1400)
        _size(driver, 1366, 768)
        fill(driver, dict(PATIENT, age="fifty"), UNITS)
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#error-summary")
        _tall(driver, out / "inline-error.png", 1366, 768)
        fill(driver, {"age": "52"})
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band")
        _tall(driver, out / "result-desktop.png", 1366, 768)            # the first screen the test measures
        _size(driver, 1366, 768)
        fill(driver, {"hba1c": "6.9"})                                   # the worst case: a diabetes-range value too
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band")
        _tall(driver, out / "result-phone.png", 390, 1688)              # a phone's first two screens (390x844 each)
        _size(driver, 1366, 768)
        fill(driver, {"hba1c": ""})
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band")
        driver.execute_script("for (const id of ['sec-percentiles', 'sec-whatif']) document.getElementById(id).open = true")
        _tall(driver, out / "where-and-what-if.png", 1366, 1500, "sec-percentiles")
        _size(driver, 390, 844)
        driver.execute_script("document.getElementById('sec-factors').open = true")
        _tall(driver, out / "factors-phone.png", 390, 1400, "sec-factors")
        _size(driver, 1366, 768)
        click_and_load(driver, driver.find_element(By.ID, "switch-audience"), "#band")
        _tall(driver, out / "result-patient.png", 1366, 768)
        click_and_load(driver, driver.find_element(By.ID, "handout-button"), "#handout")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        height = min(driver.execute_script("return document.documentElement.scrollHeight"), 2600)
        _tall(driver, out / "handout-print.png", 900, height)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        _size(driver, 1366, 768)
        driver.get(base + "/batch")
        sample = Path(tempfile.mkdtemp()) / "clinic.csv"
        sample.write_text("age,sex,bmi,waist,hs_crp\n52,male,31,104,4.1\n44,female,24,79,0.8\nabc,male,30,,\n",
                          encoding="utf-8")
        driver.find_element(By.ID, "batch-file").send_keys(str(sample))
        driver.find_element(By.ID, "batch-submit").click()
        wait_visible(driver, "#batch-download")
        _tall(driver, out / "batch.png", 1366, 768)
        driver.get(ehr.base + "/ehr/chart?" + urllib.parse.urlencode({"app": base + "/launch", "patient": "p-history"}))
        click_and_load(driver, driver.find_element(By.ID, "open-app"), "#band")
        _tall(driver, out / "smart-launch.png", 1366, 768)
        driver.execute_script("document.getElementById('sec-trend').open = true")
        _tall(driver, out / "smart-trend.png", 1366, 1000, "sec-trend")
        _tall(driver, out / "smart-provenance.png", 1366, 900, "ehr-title")
    finally:
        driver.quit()
        server.shutdown()
        ehr.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
