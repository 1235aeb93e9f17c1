"""Find and sort in the inbox (issue 29, "Find and sort"), in headless chromium against `baton
serve` on DynamoDB Local: search by id, name or description, due by a day, overdue only, one
case's tasks, and the lists sorted by due date or age; every filter in the URL (Back undoes it)
and served by `GET /api/v1/tasks` (search, dueBefore, overdue, caseId, sort); the supervisor view
searched too. axe-core on the open filters."""

from __future__ import annotations

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.support.browser import axe_violations, console_errors, serious, task_ids, wait
from tests.support.localserver import Server, request, token

pytestmark = pytest.mark.xdist_group("find")
ALLOWED_FAILURES = ("favicon.ico", "/local/events")


def ours(driver: WebDriver) -> list[str]:
    """The queue's rows of this test's tasks (the demo's own tasks left out)."""
    return [t for t in task_ids(driver, "queue") if t.startswith("f-")]


def test_search_due_overdue_case_and_sort(server: Server, browser: WebDriver) -> None:
    admin = token(server.state, "admin", "admin")
    for body in ({"id": "f-1", "name": "Renew the ACME licence", "priority": 30, "dueDate": "2026-01-03T12:00:00Z"},
                 {"id": "f-2", "name": "Quarterly report", "description": "Check the Acme figures first",
                  "priority": 60, "dueDate": "2026-01-05T12:00:00Z", "caseId": "case-f"},
                 {"id": "f-3", "name": "Order chairs", "priority": 90, "caseId": "case-f"}):
        assert request(server.base, "POST", "/api/v1/tasks", admin, {**body, "candidateUsers": ["carol"]})[0] == 201

    browser.get(server.base + "/?user=carol")
    wait(browser, "carol's queue", lambda d: ours(d) == ["f-3", "f-2", "f-1"])  # queue order: priority
    browser.find_element(By.ID, "f-q").send_keys("acme", Keys.ENTER)  # the name of one, the description of another
    wait(browser, "found by name and description", lambda d: task_ids(d, "queue") == ["f-2", "f-1"])
    assert "q=acme" in browser.current_url

    browser.find_element(By.CSS_SELECTOR, "#filters summary").click()
    Select(browser.find_element(By.ID, "f-sort")).select_by_value("due")
    browser.find_element(By.ID, "f-apply2").click()
    wait(browser, "due date first", lambda d: task_ids(d, "queue") == ["f-1", "f-2"])
    assert "sort=due" in browser.current_url
    assert axe_violations(browser) == [], serious(axe_violations(browser))

    browser.back()
    wait(browser, "Back: queue order again", lambda d: task_ids(d, "queue") == ["f-2", "f-1"])
    assert Select(browser.find_element(By.ID, "f-sort")).first_selected_option.get_attribute("value") == ""

    browser.get(server.base + "/?user=carol&due=2026-01-04")  # due by the end of that day
    wait(browser, "due by Jan 4", lambda d: "f-1" in ours(d) and "f-2" not in ours(d) and "f-3" not in ours(d))
    assert browser.find_element(By.ID, "f-due").get_attribute("value") == "2026-01-04"
    browser.get(server.base + "/?user=carol&overdue=1")
    wait(browser, "overdue only", lambda d: {"f-1", "f-2"} <= set(ours(d)) and "f-3" not in ours(d))
    assert browser.find_element(By.ID, "f-overdue").is_selected()
    browser.get(server.base + "/?user=carol&caseId=case-f")
    wait(browser, "one case's tasks", lambda d: task_ids(d, "queue") == ["f-3", "f-2"])
    browser.get(server.base + "/?user=carol&sort=age")
    wait(browser, "oldest first", lambda d: ours(d) == ["f-1", "f-2", "f-3"])
    browser.get(server.base + "/?user=carol&sort=newest")
    wait(browser, "newest first", lambda d: ours(d) == ["f-3", "f-2", "f-1"])

    carol = token(server.state, "carol", "engineering")  # my tasks take the same filters
    assert request(server.base, "POST", "/api/v1/tasks/f-1/action/claim", carol)[0] == 200
    assert request(server.base, "POST", "/api/v1/tasks/f-3/action/claim", carol)[0] == 200
    browser.get(server.base + "/?user=carol&q=licence")
    wait(browser, "my tasks searched", lambda d: task_ids(d, "mine") == ["f-1"] and task_ids(d, "queue") == [])

    browser.get(server.base + "/?user=admin&view=supervise&q=acme")  # the supervisor's view, searched
    wait(browser, "the supervisor view searched", lambda d: sorted(
        str(r.get_attribute("data-id")) for r in d.find_elements(By.CSS_SELECTOR, "#sup-groups tbody tr")) == [
        "f-1", "f-2"])
    for task_id in ("f-1", "f-3"):
        assert request(server.base, "POST", f"/api/v1/tasks/{task_id}/action/release", carol)[0] == 200
    assert console_errors(browser, ALLOWED_FAILURES) == []
