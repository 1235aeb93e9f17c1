"""A group lead's supervisor view in headless chromium against `baton serve` (issue 29: "a
supervisor view (admin, or a group's lead)"): carol, no admin and no member of ops, leads it; she is
offered Supervise, sees ops's open tasks by holder (GET /api/v1/groups/ops/tasks) and releases the
one alice holds with a bulk action; axe-core finds no serious violation."""

from __future__ import annotations

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.support.browser import axe_violations, console_errors, wait
from tests.support.localserver import Server, request, token

pytestmark = pytest.mark.xdist_group("leads")


def test_a_lead_supervises_its_group_and_releases_a_members_task(server: Server, browser: WebDriver) -> None:
    admin = token(server.state, "admin", "admin")
    status, _ = request(server.base, "PUT", "/api/v1/groups/ops", admin,
                        {"name": "Operations", "members": ["alice", "bob"], "leads": ["carol"]})
    assert status == 200
    alice = token(server.state, "alice", "operations")
    assert request(server.base, "POST", "/api/v1/tasks/task-1/action/claim", alice)[0] == 200

    browser.get(server.base + "/?user=carol")
    wait(browser, "Supervise offered to the lead", lambda d: d.find_element(By.ID, "view-supervise").is_displayed())
    browser.get(server.base + "/?user=carol&view=supervise")
    wait(browser, "ops's tasks by holder", lambda d: d.find_elements(
        By.CSS_SELECTOR, 'section.holder[data-holder="alice"] tr[data-id="task-1"]'))
    shown = {r.get_attribute("data-id") for r in browser.find_elements(By.CSS_SELECTOR, "#sup-groups tr[data-id]")}
    assert {"task-1", "task-2"} <= shown and "task-3" not in shown  # ops's tasks only (task-3 is eng's)
    assert "ops" in browser.find_element(By.ID, "supervise-title").text
    pick = '#sup-groups input[data-id="task-1"]'
    wait(browser, "task-1 picked", lambda d: d.find_element(By.CSS_SELECTOR, pick).is_selected()
         or d.find_element(By.CSS_SELECTOR, pick).click() or d.find_element(By.CSS_SELECTOR, pick).is_selected())
    Select(browser.find_element(By.ID, "bulk-action")).select_by_value("release")
    browser.find_element(By.CSS_SELECTOR, "#bulk button[type=submit]").click()
    wait(browser, "the result", lambda d: d.find_elements(By.CSS_SELECTOR, '#bulk-results li[data-id="task-1"]'))
    assert browser.find_element(By.CSS_SELECTOR, '#bulk-results li[data-id="task-1"]').get_attribute(
        "data-status") == "200"
    wait(browser, "task-1 back in the queue", lambda d: d.find_elements(
        By.CSS_SELECTOR, 'section.holder[data-holder=""] tr[data-id="task-1"]'))
    status, body = request(server.base, "GET", "/api/v1/tasks/task-1", admin)
    assert status == 200 and body["assignee"] is None
    assert axe_violations(browser) == []
    assert console_errors(browser, ("favicon.ico", "/local/events")) == []
