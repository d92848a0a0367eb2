"""Helpers for the browser tests: axe-core runs, CSP checks, waiting."""
from __future__ import annotations

from pathlib import Path

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# WCAG 2.0/2.1 A and AA rules plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(driver) -> list[dict]:
    """Serious and critical axe-core violations on the current page (injected via WebDriver,
    which the page's CSP does not block)."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
        AXE_TAGS)
    return [v for v in result if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} -> "
                     + "; ".join(n.get("target", [""])[0] if isinstance(n.get("target", [""])[0], str) else str(n.get("target"))
                                 for n in v["nodes"][:5]) for v in violations)


def assert_accessible(driver) -> None:
    violations = axe_violations(driver)
    assert not violations, describe(violations)


def csp_violations(driver) -> list[str]:
    """Console messages about the Content-Security-Policy since the last call."""
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def wait_for(driver, css: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))


def wait_visible(driver, css: str, timeout: float = 20):
    return WebDriverWait(driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def click_and_load(driver, element, css: str, timeout: float = 20):
    """Click something that loads a new page, and wait for ``css`` on the new page."""
    old = driver.find_element(By.TAG_NAME, "html")
    scroll_to(driver, element)
    element.click()
    WebDriverWait(driver, timeout).until(replaced(old))
    return wait_for(driver, css, timeout)


def replaced(old):
    """EC.staleness_of, plus chromedriver's other answer for an element of a page being replaced:
    "Node with given id does not belong to the document" (an unknown error, not a stale reference),
    which otherwise fails a test at random mid-navigation."""
    def check(_driver):
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False
    return check


def scroll_to(driver, element) -> None:
    """Bring an element to mid-screen, as a user scrolls, clear of the sticky disclaimer."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
