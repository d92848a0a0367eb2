"""Every screen size, measured in Chromium: the answer on the first screen of a desktop (the first
two of a phone), no sideways scrolling, a disclaimer bar that stays short and never covers a
control, the factor table as cards on a phone, chart text at least 12 px, and sections that print
open with the whole disclaimer."""
from __future__ import annotations

import urllib.parse
from contextlib import contextmanager

import pytest
from selenium.webdriver.common.by import By

from .browser import assert_accessible, click_and_load, scroll_to
from .test_browser import PATIENT, UNITS, score_patient

DESKTOP = (1366, 768)
PHONES = [(390, 844), (360, 740)]
# Everything the first screen must hold: a measured HOMA-IR, the diabetes-range warning (HbA1c
# 6.9% is in the diabetes range), the likelihood, the band and the three main factors.
WORST_CASE = dict(PATIENT, hba1c="6.9")
FIRST_SCREEN = ("diabetes-range", "measured-homa", "likelihood", "band", "points", "top-factors", "missing-short")


@contextmanager
def viewport(driver, width: int, height: int):
    """The page as a device of this CSS size sees it (a phone when narrow)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def rects(driver, ids) -> dict:
    return driver.execute_script(
        "const out = {}; for (const id of arguments[0]) { const e = document.getElementById(id);"
        " if (e) { const r = e.getBoundingClientRect(); out[id] = {top: r.top + scrollY, bottom: r.bottom + scrollY,"
        " height: r.height}; } } return out;", list(ids))


def bar_height(driver) -> float:
    return driver.execute_script("return document.getElementById('disclaimer').getBoundingClientRect().height")


def no_sideways_scroll(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def open_every_section(driver) -> None:
    driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")


def covered_controls(driver) -> list[str]:
    """Controls the disclaimer bar hides or takes the click of. Each control is brought into view as
    keyboard focus and WebDriver do (to the nearest edge; here the bottom, where the bar is): it must
    then lie clear of the bar and get the click at its centre. Then, wherever the page is scrolled,
    a control that passes under the bar must still get its click (the bar lets clicks through)."""
    return driver.execute_script("""
        const out = [], bar = document.getElementById('disclaimer');
        const controls = [...document.querySelectorAll('button, summary, input:not([type=hidden]), select, main a')]
            .filter(e => e.checkVisibility({visibilityProperty: true, opacityProperty: true}));
        const hits = (el) => {
            const r = el.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 8), r.top + r.height / 2);
            return hit && (el === hit || el.contains(hit) || (hit.tagName === 'LABEL' && hit.control === el));
        };
        for (const el of controls) {
            el.scrollIntoView({block: 'end', inline: 'nearest'});
            const r = el.getBoundingClientRect(), b = bar.getBoundingClientRect();
            if (r.bottom > b.top + 1) out.push((el.id || el.tagName) + ' hidden under the bar');
            else if (!hits(el)) out.push((el.id || el.tagName) + ' does not get its click');
            window.scrollBy(0, Math.round((r.top + r.bottom) / 2 - (b.top + b.bottom) / 2));  // now under the bar
            const r2 = el.getBoundingClientRect();
            if (r2.bottom > b.top && r2.top < b.bottom && r2.bottom < innerHeight && !hits(el))
                out.push((el.id || el.tagName) + ' under the bar does not get its click');
        }
        return out;""")


def small_chart_text(driver) -> list[str]:
    """Chart words below 12 CSS px: HTML text in the charts, and SVG text at its drawn scale."""
    return driver.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('.bars *, .legend *, .scale *, .trend *, .strips *')) {
            const size = parseFloat(getComputedStyle(el).fontSize);
            const scale = el instanceof SVGElement && el.getScreenCTM ? Math.abs(el.getScreenCTM().a) : 1;
            const hasText = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
            if (hasText && size * scale < 12) out.push(el.tagName + ' ' + el.textContent.trim().slice(0, 30) + ' ' + size * scale);
        }
        return out;""")


def test_the_answer_fills_the_first_screen_of_a_desktop(browser, live_server):
    with viewport(browser, *DESKTOP):
        score_patient(browser, live_server, WORST_CASE, UNITS)
        browser.execute_script("window.scrollTo(0, 0)")
        inner = browser.execute_script("return window.innerHeight")
        visible_to = inner - bar_height(browser)
        boxes = rects(browser, FIRST_SCREEN)
        assert set(boxes) == set(FIRST_SCREEN)
        for name, box in boxes.items():
            assert box["height"] > 0 and box["bottom"] <= visible_to, (name, box, visible_to)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#top-factors li")) == 3
        assert browser.find_element(By.ID, "disclaimer-link").is_displayed()
        assert covered_controls(browser) == []
        assert small_chart_text(browser) == []


@pytest.mark.parametrize("size", PHONES, ids=[f"{w}x{h}" for w, h in PHONES])
def test_phone_screens(browser, live_server, test_ehr, size):
    with viewport(browser, *size):
        browser.get(live_server + "/")
        assert no_sideways_scroll(browser)
        inner = browser.execute_script("return window.innerHeight")
        assert bar_height(browser) <= 0.15 * inner, (bar_height(browser), inner)

        score_patient(browser, live_server, WORST_CASE, UNITS)
        browser.execute_script("window.scrollTo(0, 0)")
        boxes = rects(browser, FIRST_SCREEN)
        assert set(boxes) == set(FIRST_SCREEN)
        if size == PHONES[0]:    # 390x844: inside the first two screens (the acceptance's size)
            for name, box in boxes.items():
                assert box["bottom"] <= 2 * inner - bar_height(browser), (name, box, inner)
        assert bar_height(browser) <= 0.15 * inner
        assert covered_controls(browser) == []

        open_every_section(browser)
        assert no_sideways_scroll(browser), browser.execute_script(
            "return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
            " > innerWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className)")
        # the factor table reflows into one card per factor, each cell labelled
        row = browser.find_element(By.CSS_SELECTOR, "table.contributions tbody tr")
        assert row.value_of_css_property("display") == "block"
        assert browser.execute_script(
            "return getComputedStyle(arguments[0], '::before').content", row.find_element(By.CSS_SELECTOR, "td")) \
            == '"Value: "'
        assert small_chart_text(browser) == []
        assert covered_controls(browser) == []
        assert_accessible(browser)

        click_and_load(browser, browser.find_element(By.ID, "handout-button"), "#handout")
        assert no_sideways_scroll(browser)
        assert bar_height(browser) <= 0.15 * inner
        browser.get(live_server + "/launch")
        assert no_sideways_scroll(browser)
        if size == PHONES[-1]:   # the narrowest: the launched page with its four-visit trend, every section open
            browser.get(test_ehr.base + "/ehr/chart?" + urllib.parse.urlencode({"app": live_server + "/launch",
                                                                                 "patient": "p-history"}))
            click_and_load(browser, browser.find_element(By.ID, "open-app"), "#band")
            open_every_section(browser)
            assert no_sideways_scroll(browser)
            assert small_chart_text(browser) == []
            assert browser.find_element(By.CSS_SELECTOR, "#trend-table tbody tr").value_of_css_property("display") \
                == "block"


def test_sections_print_open_with_the_whole_disclaimer(browser, live_server, kb):
    score_patient(browser, live_server)
    sections = browser.find_elements(By.CSS_SELECTOR, "details.sec")
    assert len(sections) >= 6 and not any(s.get_attribute("open") for s in sections)  # closed on screen
    assert not browser.execute_script("return document.querySelector('#sec-references .sec-body').checkVisibility()")
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        # (WebDriver's is_displayed calls anything in a closed <details> hidden, whatever the CSS says)
        hidden = browser.execute_script(
            "return [...document.querySelectorAll('details.sec .sec-body')].filter(b => !b.checkVisibility()"
            " || b.getBoundingClientRect().height < 10).map(b => b.parentElement.id)")
        assert hidden == []
        full = browser.find_element(By.ID, "disclaimer-full")
        assert full.is_displayed() and kb.disclaimer in " ".join(full.text.split())
        assert not browser.find_element(By.ID, "disclaimer").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_a_link_into_a_closed_section_opens_it(browser, live_server):
    score_patient(browser, live_server)
    link = browser.find_element(By.CSS_SELECTOR, "#sec-factors .refs a")
    browser.find_element(By.CSS_SELECTOR, "#sec-factors > summary").click()
    target = link.get_attribute("href").split("#")[1]
    assert not browser.execute_script("return document.getElementById(arguments[0]).checkVisibility()", target)
    scroll_to(browser, link)
    link.click()
    assert browser.find_element(By.ID, target).is_displayed()
