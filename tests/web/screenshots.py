"""Regenerate the page screenshots in docs/screenshots/ (not a test).

    PYTHONPATH=. python -m tests.web.screenshots [docs/screenshots]

Starts the app and the local test EHR on 127.0.0.1, drives headless Chromium through the main
views and saves full-page PNGs. Needs Debian's chromium and chromium-driver.
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


def _driver(width: int):
    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                 f"--window-size={width},900", "--force-device-scale-factor=1",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='riskservice-shots-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def _full_page(driver, path: Path, max_height: int = 3200) -> None:
    """A screenshot of the page's top ``max_height`` pixels (the sticky disclaimer stays at the bottom)."""
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), max_height)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": driver.execute_script("return window.innerWidth"), "height": height,
                            "deviceScaleFactor": 1, "mobile": False})
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    path.write_bytes(base64.b64decode(shot["data"]))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print("wrote", path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    ehr = LocalEhr().start()
    app = build_app({"SMART_ISSUERS": ehr.fhir_base, "SMART_AS_OF": AS_OF, "SECRET_KEY": os.urandom(32)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    driver = _driver(1280)
    try:
        driver.get(base + "/")
        _full_page(driver, out / "form.png", 1800)
        fill(driver, dict(PATIENT, age="fifty"), UNITS)
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#error-summary")
        _full_page(driver, out / "inline-error.png", 900)
        fill(driver, {"age": "52"})
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band")
        _full_page(driver, out / "result-clinician.png")
        click_and_load(driver, driver.find_element(By.ID, "switch-audience"), "#band")
        _full_page(driver, out / "result-patient.png", 1600)
        click_and_load(driver, driver.find_element(By.ID, "handout-button"), "#handout")
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        _full_page(driver, out / "handout-print.png", 2400)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        driver.get(base + "/batch")
        sample = Path(tempfile.mkdtemp()) / "clinic.csv"
        sample.write_text("age,sex,bmi,waist,hs_crp\n52,male,31,104,4.1\n44,female,24,79,0.8\nabc,male,30,,\n",
                          encoding="utf-8")
        driver.find_element(By.ID, "batch-file").send_keys(str(sample))
        driver.find_element(By.ID, "batch-submit").click()
        wait_visible(driver, "#batch-download")
        _full_page(driver, out / "batch.png", 900)
        driver.get(ehr.base + "/ehr/chart?" + urllib.parse.urlencode({"app": base + "/launch"}))
        click_and_load(driver, driver.find_element(By.ID, "open-app"), "#band")
        waist = driver.find_element(By.ID, "waist")
        waist.clear()
        waist.send_keys("98")
        click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band")
        _full_page(driver, out / "smart-launch.png", 1200)
        driver.execute_script("document.getElementById('ehr-title').scrollIntoView()")
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        (out / "smart-provenance.png").write_bytes(base64.b64decode(shot["data"]))
        print("wrote", out / "smart-provenance.png")
    finally:
        driver.quit()
        server.shutdown()
        ehr.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
