"""The batch page tells the truth (issue 21, section 4), in headless Chromium against the deployed app.

The mapping step lists every column with what it will be read as (and lets the user change it); after
scoring the page shows how many rows were scored, how many carry an error and how many columns were
ignored, the first 50 errors and a download of all of them, next to the scored file. The numbers are
checked against the same file scored by the engine in this process."""
from __future__ import annotations

import csv
import io
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from riskservice.core.knowledge import load_knowledge
from riskservice.rows.batch import BatchScorer
from tests.hospital import hospital_csv, patients, results

from .browser import assert_accessible, csp_violations, scroll_to, wait_visible


def _expected(data: bytes, mapping=None):
    out = results(b"".join(BatchScorer(load_knowledge()).iter_csv(io.BytesIO(data), mapping=mapping)))
    errors = [r for r in out if r["error"]]
    return len(out) - len(errors), errors


def _choose(browser, path):
    browser.find_element(By.ID, "batch-file").send_keys(str(path))
    return wait_visible(browser, "#batch-column-table tbody tr")


def _row_of(browser, column):
    for tr in browser.find_elements(By.CSS_SELECTOR, "#batch-column-table tbody tr"):
        if tr.find_element(By.CSS_SELECTOR, "th").text == column:
            return tr
    raise AssertionError(f"no row for column {column!r}")


def _until(browser, condition, timeout=20):
    """Wait for ``condition``; the mapping table is re-drawn after each answer of the server, so an
    element read a moment earlier may be gone: that is a reason to look again, not a failure."""
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _score(browser):
    scroll_to(browser, browser.find_element(By.ID, "batch-submit"))
    browser.find_element(By.ID, "batch-submit").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "batch-message").text.startswith(("Done", "The")))
    return browser.find_element(By.ID, "batch-counts").text


def _wait_for(path, timeout=20):
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text(encoding="utf-8")


def test_the_page_shows_how_columns_are_read_and_the_true_counts_and_errors(browser, live_server, tmp_path,
                                                                             download_dir):
    rows = patients(n=500, broken_every=7)           # 71 rows with an error: more than the 50 shown
    data = hospital_csv(rows)
    source = tmp_path / "export.csv"
    source.write_bytes(data)
    scored, errors = _expected(data)
    assert len(errors) > 50
    for old in download_dir.glob("*"):
        old.unlink()
    browser.get(live_server + "/batch")
    csp_violations(browser)
    _choose(browser, source)
    assert Select(_row_of(browser, "Gender").find_element(By.TAG_NAME, "select")).first_selected_option \
        .get_attribute("value") == "sex"
    glucose = _row_of(browser, "Fasting glucose (mmol/L)")
    assert Select(glucose.find_element(By.CSS_SELECTOR, "select[id^=map-]")).first_selected_option \
        .get_attribute("value") == "fasting_glucose"
    assert "mmol/L (header)" in glucose.find_elements(By.TAG_NAME, "td")[1].text
    assert Select(_row_of(browser, "Patient ID").find_element(By.TAG_NAME, "select")).first_selected_option \
        .get_attribute("value") == ""
    assert browser.find_element(By.ID, "batch-columns-summary").text.startswith("10 column(s) will be read, 2 passed")
    assert_accessible(browser)

    counts = _score(browser)
    assert counts == f"{scored} scored, {len(errors)} with errors, 2 columns ignored (500 rows in all)."
    assert browser.find_element(By.ID, "batch-progress").get_attribute("value") == "100"
    shown = browser.find_elements(By.CSS_SELECTOR, "#batch-error-table tbody tr")
    assert len(shown) == 50
    first = errors[0]
    cells = shown[0].find_elements(By.TAG_NAME, "td")
    assert first["Patient ID"] in cells[0].text and cells[1].text == first["error"]
    assert browser.find_element(By.ID, "batch-errors-note").text == \
        f"The first 50 of {len(errors)} rows with errors; download them all below."
    assert_accessible(browser)
    assert csp_violations(browser) == []

    link = browser.find_element(By.ID, "batch-errors-download")
    assert link.text == f"Download all {len(errors)} rows with errors (CSV)"
    scroll_to(browser, link)
    link.click()
    downloaded = list(csv.DictReader(io.StringIO(_wait_for(download_dir / "errors-export.csv"))))
    assert [r["error"] for r in downloaded] == [r["error"] for r in errors]
    scroll_to(browser, browser.find_element(By.ID, "batch-download"))
    browser.find_element(By.ID, "batch-download").click()
    scored_file = results(_wait_for(download_dir / "scored-export.csv").encode())
    assert len(scored_file) == 500 and sum(1 for r in scored_file if r["error"]) == len(errors)


def test_the_mapping_step_resolves_a_look_alike_column(browser, live_server, tmp_path):
    data = b"MRN,Age,Sex,Glucose,Insulin\n1,52,M,5.4,\n2,61,F,6.8,\n3,45,F,x,\n"
    source = tmp_path / "lookalike.csv"
    source.write_bytes(data)
    browser.get(live_server + "/batch")
    _choose(browser, source)
    problems = browser.find_element(By.ID, "batch-problems").text
    assert "Glucose" in problems and "did you mean fasting_glucose" in problems
    assert "problem(s) to resolve" in browser.find_element(By.ID, "batch-columns-summary").text
    Select(_row_of(browser, "Glucose").find_element(By.CSS_SELECTOR, "select[id^=map-]")).select_by_value(
        "fasting_glucose")
    _until(browser, lambda d: "your choice" in _row_of(d, "Glucose").text)     # re-read by the server
    _until(browser, lambda d: Select(_row_of(d, "Insulin").find_element(By.CSS_SELECTOR, "select[id^=map-]"))
           .select_by_value("") or True)
    _until(browser, lambda d: d.find_element(By.ID, "batch-problems").text == ""
           and "your choice" in _row_of(d, "Glucose").text)
    counts = _score(browser)
    assert counts == "2 scored, 1 with errors, 2 columns ignored (3 rows in all)."
    assert "'x' is not a number" in browser.find_element(By.ID, "batch-error-table").text
    assert_accessible(browser)


def test_an_unusable_header_is_shown_with_its_problems(browser, live_server, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_bytes(b"MRN,Weight\n1,80\n")
    browser.get(live_server + "/batch")
    _choose(browser, source)
    counts = _score(browser)
    assert "HTTP 422" in browser.find_element(By.ID, "batch-message").text
    assert "required column 'age' is missing" in counts and "required column 'sex' is missing" in counts


@pytest.fixture(autouse=True)
def _fresh_page(browser):
    yield
    browser.get("about:blank")
