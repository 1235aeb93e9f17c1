"""The inbox's team panel in headless chromium against `baton serve` (API.md "People"): my groups'
queues and members' presence and load (GET /api/v1/groups/{id}/stats), and my presence toggle."""

from __future__ import annotations

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.support.browser import console_errors, wait
from tests.support.localserver import Server, request, token

pytestmark = pytest.mark.xdist_group("team")


def cell(driver: WebDriver, group: str, member: str, column: str) -> str:
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''",
        f'#team-groups section[data-id="{group}"] tr[data-id="{member}"] td.{column}')
    return str(found)


def test_team_panel_shows_my_groups_and_sets_my_presence(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=alice")
    wait(browser, "signed in, the Team button shown", lambda d: d.find_element(By.ID, "team-open").is_displayed())
    browser.find_element(By.ID, "team-open").click()
    wait(browser, "ops in the team panel", lambda d: cell(d, "ops", "bob", "presence") == "available")
    queue = browser.execute_script(
        "return document.querySelector('#team-groups section[data-id=\"ops\"] .team-queue').innerText")
    assert "in the queue" in queue and "past due" in queue
    assert cell(browser, "ops", "alice", "load") != ""
    Select(browser.find_element(By.ID, "team-presence")).select_by_value("away")
    wait(browser, "alice away", lambda d: cell(d, "ops", "alice", "presence") == "away")
    admin = token(server.state, "admin", "admin")
    status, body = request(server.base, "GET", "/api/v1/users?filter=alice", admin)
    assert status == 200 and next(u for u in body["items"] if u["id"] == "alice")["presence"] == "away"
    assert console_errors(browser, ("favicon.ico", "/local/events")) == []
