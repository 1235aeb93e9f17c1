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

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900",
         # offline: every name but the local server's address fails to resolve
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]


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
