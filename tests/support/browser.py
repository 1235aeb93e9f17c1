"""A real headless browser for the page tests: Debian's chromium driven through its
chromium-driver by selenium (`make browser` installs both; nothing is downloaded). The browser
can resolve no host but 127.0.0.1, so a page that needs the internet shows it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900",
         # offline: every name but the local server's address fails to resolve
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


WAIT = 30  # seconds: a shared, loaded machine


def executables() -> tuple[str, str]:
    browser = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    missing = [p for p in (browser, driver) if not os.access(p, os.X_OK)]
    assert not missing, f"{missing} missing: `make browser` installs Debian's chromium and chromium-driver"
    return browser, driver


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    browser, driver_path = executables()
    profile = tempfile.mkdtemp(prefix="baton-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: webdriver.Chrome, name: str, fallback: Path) -> Path:
    """Save a screenshot: into docs/screenshots/ when BATON_SCREENSHOTS is set (make screenshots),
    else into the test's temporary folder."""
    folder = Path(os.environ["BATON_SCREENSHOTS"]) if os.environ.get("BATON_SCREENSHOTS") else fallback
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    assert driver.save_screenshot(str(target)), target
    return target


def console_errors(driver: webdriver.Chrome, allowed: tuple[str, ...] = ()) -> list[str]:
    """The page's console errors, less failed loads of the resources named in `allowed`."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not any(a in entry["message"] for a in allowed)]


def resources(driver: webdriver.Chrome) -> list[str]:
    """Every URL the page has loaded (the document, scripts, styles, fetches)."""
    urls: list[str] = driver.execute_script(
        "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]")
    return urls


@contextmanager
def one_browser() -> Iterator[webdriver.Chrome]:
    """One chromium for a test process's page tests (tests/browser/conftest.py: starting one costs
    seconds on a loaded machine); `fresh` gives each test a clean page."""
    with chromium() as driver:
        driver.set_script_timeout(120)
        yield driver


def wait(driver: webdriver.Chrome, what: str, condition: Any, timeout: float = WAIT) -> None:
    """Until `condition(driver)` is true. The inbox re-renders its lists on every refresh or
    event: an element read a moment ago may be gone, so a stale one is asked again. Asked every
    50 ms (Selenium's default is every 500 ms: mostly idle time, waiting)."""
    WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message=what)


def task_ids(driver: webdriver.Chrome, column: str) -> list[str]:
    """The ids of a list's tasks (`queue`, `mine`, ...), read in one script call, so a re-render
    between reads can't leave a stale element."""
    ids = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(li => li.dataset.id || '')", f"#{column} li.task")
    return list(ids)


def text(driver: webdriver.Chrome, selector: str) -> str:
    """The rendered text of the first element matching `selector` ('' when none), read in one script call."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)
    return str(found)


def click(driver: webdriver.Chrome, selector: str) -> None:
    """Click the element (found again if a re-render replaced it meanwhile)."""
    def done(d: webdriver.Chrome) -> bool:
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True

    wait(driver, f"{selector} clicked", done)


def serious(violations: list[dict[str, object]]) -> str:
    """axe-core's violations, one line each, for an assertion's message."""
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']}: {v['nodes']}" for v in violations)


def fresh(driver: webdriver.Chrome, base: str, width: int = 1280, height: int = 900) -> webdriver.Chrome:
    """The shared browser as a new test wants it: the window's size, no page state of the previous
    test (storage of the server's origin, cookies), and its console log read away."""
    driver.set_window_size(width, height)
    driver.get(base + "/health")
    driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    driver.delete_all_cookies()
    driver.get_log("browser")
    return driver


AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(driver: webdriver.Chrome, impacts: tuple[str, ...] = ("serious", "critical"),
                   context: str = "document") -> list[dict[str, object]]:
    """axe-core's violations of the page as it is now (WCAG 2.x A and AA rules and axe's best
    practices), those of the given impacts. axe-core comes from npm (package.json, `make install`)
    and is put into the page by the test: the page itself loads nothing from anywhere else."""
    assert AXE.is_file(), f"{AXE} missing: `make install` installs axe-core from npm"
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, object]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"axe.run({context}, {{resultTypes: ['violations']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [v for v in found if v["impact"] in impacts]
