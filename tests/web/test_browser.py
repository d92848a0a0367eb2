"""The clinician's page in headless Chromium: form -> band, inline errors, audience, print,
batch upload/download and a full SMART EHR launch, each view checked with axe-core and for
Content-Security-Policy violations."""
from __future__ import annotations

import base64
import urllib.parse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from riskservice.core.knowledge import load_knowledge
from riskservice.core.scoring import Scorer
from riskservice.ehr import fhir_in
from riskservice.web import wording

from .browser import assert_accessible, click_and_load, csp_violations, replaced, scroll_to, wait_for
from .conftest import AS_OF

PATIENT = {  # as a clinician types it; glucose in mmol/L to use a unit picker
    "age": "52", "sex": "male", "weight": "98", "height": "175", "waist": "108",
    "mvpa_minutes_per_week": "60", "medications": "prednisone", "family_history_diabetes": "first_degree",
    "hs_crp": "4", "fasting_glucose": "5.8", "fasting_insulin": "18", "triglycerides": "190", "hdl_cholesterol": "38",
}
UNITS = {"fasting_glucose_unit": "mmol/L"}
# without insulin: no measured HOMA-IR, so the page shows the insulin-resistance likelihood (a valid
# measurement leads instead, and no likelihood of a measured outcome is shown)
ESTIMATED = {k: v for k, v in PATIENT.items() if k != "fasting_insulin"}
RAW = {"age": 52.0, "sex": "male", "weight": 98.0, "height": 175.0, "waist": 108.0, "mvpa_minutes_per_week": 60.0,
       "medications": ["prednisone"], "family_history_diabetes": "first_degree", "hs_crp": 4.0,
       "fasting_glucose": 5.8, "fasting_glucose_unit": "mmol/L", "fasting_insulin": 18.0, "triglycerides": 190.0,
       "hdl_cholesterol": 38.0,
       # the page's unit pickers send the canonical unit with every filled lab
       "hs_crp_unit": "mg/L", "fasting_insulin_unit": "uU/mL", "triglycerides_unit": "mg/dL",
       "hdl_cholesterol_unit": "mg/dL"}


@pytest.fixture(scope="module")
def engine():
    """The engine without the model: band, points and texts do not depend on the model."""
    return Scorer(load_knowledge())


def fill(driver, values: dict, units: dict | None = None):
    for name, value in values.items():
        el = driver.find_element(By.ID, name)
        if el.tag_name == "select":
            Select(el).select_by_value(value)
        else:
            el.clear()
            el.send_keys(value)
    for name, unit in (units or {}).items():
        Select(driver.find_element(By.ID, name)).select_by_value(unit)


def score_patient(driver, live_server, values=PATIENT, units=UNITS):
    driver.get(live_server + "/")
    fill(driver, values, units)
    return click_and_load(driver, driver.find_element(By.ID, "score-button"), "#band, #error-summary")


def band_of(driver) -> str:
    """The engine's band id the page shows (its class), after checking the words say the same."""
    el = driver.find_element(By.ID, "band")
    band = next(c[5:] for c in el.get_attribute("class").split() if c.startswith("band-"))
    assert band.replace("_", " ") in el.text.lower()
    return band


def text_of(driver, css: str) -> str:
    """Text of an element, also inside a closed section (WebDriver's .text is empty there)."""
    return " ".join(driver.find_element(By.CSS_SELECTOR, css).get_attribute("textContent").split())


def disclaimer_in_view(driver) -> bool:
    return driver.execute_script(
        "const r = document.getElementById('disclaimer').getBoundingClientRect();"
        "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1;")


def test_form_scores_and_shows_the_band(browser, live_server, engine):
    browser.get(live_server + "/")
    csp_violations(browser)
    assert browser.find_element(By.ID, "group-labs").is_displayed()
    # the stylesheet loaded under the strict CSP
    assert browser.execute_script(
        "return getComputedStyle(document.querySelector('header.site')).backgroundColor") == "rgb(18, 58, 94)"
    assert_accessible(browser)

    score_patient(browser, live_server)
    expected = engine.score(RAW)
    assert band_of(browser) == expected["rules"]["band"]
    assert browser.find_element(By.ID, "points").text.startswith(f"{expected['rules']['points']} of ")
    bars = browser.find_elements(By.CSS_SELECTOR, "#contribution-chart rect")
    assert len(bars) == len(expected["rules"]["contributions"])
    chains = browser.find_elements(By.CSS_SELECTOR, "ol.chain")
    assert len(chains) == min(3, len(expected["mechanisms"]))
    assert "GLUT4" in chains[0].get_attribute("textContent")
    # RAW's HOMA-IR is measured and valid: it leads, and no likelihood of the measured outcome is shown
    assert "HOMA-IR was measured" in browser.find_element(By.ID, "likelihood").text
    refs = browser.find_elements(By.CSS_SELECTOR, "ol.references li")
    assert len(refs) == len(expected["references"])
    # the disclaimer stays in view wherever the page is scrolled
    for y in (0, 1500, 100000):
        browser.execute_script("window.scrollTo(0, arguments[0])", y)
        assert disclaimer_in_view(browser), y
    assert_accessible(browser)
    assert csp_violations(browser) == []


def test_bad_value_shows_its_error_inline(browser, live_server, engine):
    bad = dict(PATIENT, age="fifty", fasting_glucose="900")
    score_patient(browser, live_server, bad, UNITS)
    wait_for(browser, "#error-summary")
    from riskservice.core.errors import ValidationProblem
    with pytest.raises(ValidationProblem) as exc:
        engine.score(dict(RAW, age="fifty", fasting_glucose=900.0))
    for field in ("age", "fasting_glucose"):
        box = browser.find_element(By.ID, f"field-{field}")
        message = " ".join(box.find_element(By.CSS_SELECTOR, ".error").text.split())
        assert message == "Error: " + " ".join(wording.Plain(engine.knowledge).errors(exc.value.errors)[field])
        assert box.find_element(By.ID, field).get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "age").get_attribute("value") == "fifty"  # what was typed is kept
    assert browser.find_elements(By.ID, "band") == []
    assert_accessible(browser)


def test_switch_audience(browser, live_server, engine):
    score_patient(browser, live_server)
    clinician = engine.score(RAW)["rules"]["contributions"][0]["text"]
    patient = engine.score(RAW, audience="patient")["rules"]["contributions"][0]["text"]
    first_why = "table.contributions tbody tr:first-child td:last-child"
    assert text_of(browser, first_why).startswith(clinician)
    click_and_load(browser, browser.find_element(By.ID, "switch-audience"), "#band")
    assert "patient" in browser.find_element(By.ID, "audience-note").text
    assert text_of(browser, first_why).startswith(patient)
    assert_accessible(browser)
    click_and_load(browser, browser.find_element(By.ID, "switch-audience"), "#band")
    assert "clinician" in browser.find_element(By.ID, "audience-note").text


def test_print_view_is_a_patient_handout(browser, live_server, engine):
    score_patient(browser, live_server)
    click_and_load(browser, browser.find_element(By.ID, "handout-button"), "#handout")
    expected = engine.score(RAW, audience="patient")
    assert expected["rules"]["band"].replace("_", " ") in browser.find_element(By.ID, "band").text
    assert "not a diagnosis" in browser.find_element(By.ID, "patient-disclaimer").text
    assert_accessible(browser)
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        assert not browser.find_element(By.CSS_SELECTOR, "header.site").is_displayed()
        assert not browser.find_element(By.ID, "print-button").is_displayed()
        assert browser.find_element(By.ID, "patient-disclaimer").is_displayed()
        assert not browser.find_element(By.ID, "disclaimer").is_displayed()  # the short line gives way to the whole text
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000


def _expected_from_fixture(test_ehr, engine):
    items = [(r, None) for r in test_ehr.resources]
    mapping = fhir_in.map_resources(items, fhir_in.parse_as_of(AS_OF), drug_resolver=engine.knowledge.drug_class_for)
    return mapping, engine.score(mapping.payload)


def test_smart_ehr_launch_prefills_and_scores(browser, live_server, test_ehr, engine):
    test_ehr.log.clear()
    browser.get(test_ehr.base + "/ehr/chart?" + urllib.parse.urlencode({"app": live_server + "/launch"}))
    click_and_load(browser, browser.find_element(By.ID, "open-app"), "#band, #launch-error")
    assert browser.find_elements(By.ID, "launch-error") == []
    mapping, expected = _expected_from_fixture(test_ehr, engine)
    assert band_of(browser) == expected["rules"]["band"]
    assert browser.find_element(By.ID, "age").get_attribute("value") == f"{mapping.payload['age']:g}"
    assert browser.find_element(By.ID, "waist").get_attribute("value") == f"{mapping.payload['waist']:g}"
    statuses = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "table.provenance tbody td:last-child")]
    assert statuses and set(statuses) == {"from the EHR"}
    # the EHR saw the whole SMART flow: PKCE verified, then every resource type read with the token
    assert ("token", "pkce ok") in test_ehr.log
    searched = {detail for what, detail in test_ehr.log if what == "search"}
    assert {"Observation", "MedicationRequest", "Condition", "FamilyMemberHistory"} <= searched
    assert ("read", "Patient") in test_ehr.log
    assert_accessible(browser)

    # the clinician corrects the waist: the result is rescored and the change is listed
    waist = browser.find_element(By.ID, "waist")
    waist.clear()
    waist.send_keys("80")
    click_and_load(browser, browser.find_element(By.ID, "score-button"), "#band")
    rescored = engine.score(dict(mapping.payload, waist=80.0))
    assert band_of(browser) == rescored["rules"]["band"]
    changed = browser.find_elements(By.CSS_SELECTOR, "table.provenance tr.changed")
    assert [r.find_element(By.TAG_NAME, "th").text for r in changed] == ["Waist circumference"]
    assert "changed by the clinician" in changed[0].text
    assert csp_violations(browser) == []


def test_smart_standalone_launch(browser, live_server, test_ehr, engine):
    browser.get(live_server + "/launch")
    assert_accessible(browser)
    click_and_load(browser, browser.find_element(By.LINK_TEXT, test_ehr.fhir_base), "#band, #launch-error")
    _, expected = _expected_from_fixture(test_ehr, engine)
    assert band_of(browser) == expected["rules"]["band"]
    assert any(what == "authorize" and "launch/patient" in detail.split() for what, detail in test_ehr.log)


def test_failed_launch_page_is_accessible(browser, live_server):
    browser.get(live_server + "/launch?" + urllib.parse.urlencode({"iss": "https://ehr.invalid/fhir", "launch": "x"}))
    assert "allow-list" in wait_for(browser, "#launch-error").text
    assert_accessible(browser)


def test_keyboard_only_use(browser, live_server, engine):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    browser.get(live_server + "/")
    def active():
        return browser.execute_script("const a = document.activeElement; return a.id || a.className;")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert active() == "skip"  # first stop: skip link, shown when focused
    assert browser.find_element(By.CSS_SELECTOR, "a.skip").location["x"] >= 0
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert active() == "main"
    # focus order follows the form's visual order, each value next to its unit picker
    browser.find_element(By.ID, "weight").click()
    order = []
    for _ in range(4):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        order.append(active())
    assert order == ["weight_unit", "height", "height_unit", "bmi"]
    # fill the required fields and submit with Enter alone
    browser.find_element(By.ID, "age").send_keys("61")
    Select(browser.find_element(By.ID, "sex")).select_by_value("female")
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, "age").send_keys(Keys.ENTER)
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, 20).until(replaced(old))
    expected = engine.score({"age": 61.0, "sex": "female"})["rules"]["band"]
    wait_for(browser, "#band")
    assert band_of(browser) == expected


def test_what_if_shows_the_changed_likelihood(browser, live_server, two_model_scorer):
    """The clinician picks a target; the page shows the likelihood a fresh score of the changed inputs gives."""
    from riskservice.web.answer import percent
    score_patient(browser, live_server, ESTIMATED)
    assert "estimated likelihood of" in browser.find_element(By.ID, "likelihood").text
    section = browser.find_element(By.CSS_SELECTOR, "#sec-whatif > summary")
    scroll_to(browser, section)
    section.click()
    fill(browser, {"whatif_weight_percent": "-10", "whatif_mvpa": "200"})
    click_and_load(browser, browser.find_element(By.ID, "whatif-button"), "#whatif-table")
    raw = {k: v for k, v in RAW.items() if k != "fasting_insulin"}
    weight = dict(raw, weight=98.0 * 0.9)
    activity = dict(raw, mvpa_minutes_per_week=200.0)
    for sid, changed in (("whatif_weight_percent", weight), ("whatif_mvpa", activity)):
        expected = two_model_scorer.score(changed, view="summary")["probability"]["value"]
        cell = browser.find_element(By.CSS_SELECTOR, f"#whatif-{sid} td.whatif-p strong")
        assert cell.is_displayed() and cell.text == percent(expected), sid
    assert browser.find_element(By.ID, "whatif_weight_percent").get_attribute("value") == "-10"
    assert_accessible(browser)


HISTORY_VISITS = ("2024-12-12", "2025-06-19", "2025-12-11", "2026-10-16")  # bundle-history.json: labs 2 days after vitals


def test_smart_launch_shows_how_it_has_moved(browser, live_server, test_ehr, two_model_scorer):
    """Four dated visits of the test EHR's history patient, each scored like a fresh launch on that
    date, with the Observations (and their dates) behind every value."""
    from datetime import date

    from riskservice.web.answer import number, percent
    browser.get(test_ehr.base + "/ehr/chart?" + urllib.parse.urlencode({"app": live_server + "/launch",
                                                                         "patient": "p-history"}))
    click_and_load(browser, browser.find_element(By.ID, "open-app"), "#band, #launch-error")
    assert browser.find_elements(By.ID, "launch-error") == []
    summary = browser.find_element(By.CSS_SELECTOR, "#sec-trend > summary")
    scroll_to(browser, summary)
    summary.click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#trend-table tbody tr")
    assert len(rows) == len(HISTORY_VISITS) >= 3
    items = [(r, None) for r in test_ehr.by_patient["p-history"]]
    for row, day in zip(rows, HISTORY_VISITS, strict=True):
        mapping = fhir_in.map_resources(items, date.fromisoformat(day),
                                        drug_resolver=two_model_scorer.knowledge.drug_class_for)
        expected = two_model_scorer.score(mapping.payload, view="summary")
        assert row.find_element(By.TAG_NAME, "th").text.startswith(day)
        measured = expected["measured_homa_ir"]       # every visit has fasting glucose and insulin
        assert measured["valid"] and expected["probability"]["value"] is None    # the measurement leads
        assert row.find_element(By.CSS_SELECTOR, "td.trend-homa strong").text == number(measured["value"])
        second = expected["dysglycaemia_probability"]["value"]
        assert row.find_element(By.CSS_SELECTOR, "td.trend-dg").text == (
            percent(second) if second is not None else "not estimated"), day
        assert row.find_element(By.CSS_SELECTOR, "td.trend-points").text.startswith(f"{expected['points']} points")
        sources = row.find_element(By.CSS_SELECTOR, "ul.trend-values").text
        for field in ("weight", "waist", "fasting_glucose", "hba1c"):
            src = mapping.sources[field]
            assert f"{src['effective'][:10]}" in sources and src["reference"] in sources, (day, field)
    assert summary.text.startswith("How it has moved: 4 visits, measured HOMA-IR")
    from .devwords import developer_words
    assert developer_words(browser.page_source) == []
    assert_accessible(browser)
    assert csp_violations(browser) == []
