"""Who stands in and who may not, in the inbox (issue 27, API.md "Absence, delegation, offboarding"
and "Separation of duties"), in headless chromium against `baton serve` on DynamoDB Local: a task
I may not hold because of separation of duties says why instead of offering Claim (the server's
`mayHold`, from tasks.eligibility); a task's page lists its case's other tasks; delegate a task and
give it back (resolve); set and end my absence in the team panel. axe-core on each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.support.browser import axe_violations, click, console_errors, serious, task_ids, text, wait
from tests.support.localserver import Server, request, token

pytestmark = pytest.mark.xdist_group("standins")
ALLOWED_FAILURES = ("favicon.ico", "/local/events")


def test_separation_shows_why_instead_of_claim_and_the_case_s_tasks(server: Server, browser: WebDriver) -> None:
    admin = token(server.state, "admin", "admin")
    for task_id, extra in (("sod-prepare", {}), ("sod-approve", {"separation": {"tasks": ["sod-prepare"]}})):
        status, _ = request(server.base, "POST", "/api/v1/tasks", admin, {
            "id": task_id, "name": f"Order 9: {task_id[4:]}", "candidateUsers": ["alice", "bob"], "caseId": "order-9",
            **extra})
        assert status == 201
    alice = token(server.state, "alice", "operations")
    assert request(server.base, "POST", "/api/v1/tasks/sod-prepare/action/claim", alice)[0] == 200

    browser.get(server.base + "/?user=alice")
    row = '#queue li[data-id="sod-approve"]'
    wait(browser, "sod-approve says why not", lambda d: "Not yours to claim" in text(d, row))
    assert "Separation of duties" in text(browser, row) and "(tasks)" in text(browser, row)
    assert not browser.find_elements(By.CSS_SELECTOR, f'{row} button[data-action="claim"]')
    assert browser.find_elements(By.CSS_SELECTOR, '#queue li[data-id="task-1"] button[data-action="claim"]')

    click(browser, f"{row} .title a")  # its page: the same reason, no Claim; the case's other tasks
    wait(browser, "the page of sod-approve", lambda d: "Not yours to claim" in text(d, "#detail-actions")
         and "sod-prepare" in str(d.execute_script(
             "return [...document.querySelectorAll('#detail-case-list li')].map(li => li.dataset.id).join(' ')")))
    assert not browser.find_elements(By.CSS_SELECTOR, '#detail-actions button[data-action="claim"]')
    assert "not who held sod-prepare" in text(browser, "#detail-fields")
    assert "Case order-9" in text(browser, "#detail-case-title")
    assert "alice" in text(browser, '#detail-case-list li[data-id="sod-prepare"]').lower()
    assert axe_violations(browser) == [], serious(axe_violations(browser))

    bob = token(server.state, "bob", "operations")  # bob held nothing of the case: he may
    status, task = request(server.base, "GET", "/api/v1/tasks/sod-approve", bob)
    assert status == 200 and task["mayHold"] == {"mayHold": True}
    assert console_errors(browser, ALLOWED_FAILURES) == []


def test_delegate_a_task_and_the_delegate_gives_it_back(server: Server, browser: WebDriver) -> None:
    admin = token(server.state, "admin", "admin")
    assert request(server.base, "POST", "/api/v1/tasks", admin, {
        "id": "dlg-1", "name": "Check the invoice", "candidateGroups": ["ops"]})[0] == 201
    alice = token(server.state, "alice", "operations")
    assert request(server.base, "POST", "/api/v1/tasks/dlg-1/action/claim", alice)[0] == 200

    browser.get(server.base + "/?user=alice&task=dlg-1")
    wait(browser, "the delegate form", lambda d: d.find_element(By.ID, "delegate").is_displayed()
         and d.find_elements(By.CSS_SELECTOR, '#delegate-user option[value="bob"]'))
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    Select(browser.find_element(By.ID, "delegate-user")).select_by_value("bob")
    browser.find_element(By.ID, "delegate-comment").send_keys("Bob knows this supplier")
    browser.find_element(By.CSS_SELECTOR, "#delegate button[type=submit]").click()
    wait(browser, "delegated: gone from my tasks", lambda d: "dlg-1" not in task_ids(d, "mine")
         and "Delegated" in text(d, "#flash"))
    status, task = request(server.base, "GET", "/api/v1/tasks/dlg-1", alice)
    assert (task["assignee"], task["owner"], task["delegationState"]) == ("bob", "alice", "pending")

    browser.get(server.base + "/?user=bob")
    row = '#mine li[data-id="dlg-1"]'
    wait(browser, "dlg-1 in bob's tasks, delegated by alice", lambda d: "delegated by" in text(d, row)
         and "alice" in text(d, row).lower())
    assert not browser.find_elements(By.CSS_SELECTOR, f'{row} button[data-action="complete"]')  # the owner completes
    click(browser, f'{row} button[data-action="resolve"]')
    wait(browser, "given back", lambda d: "dlg-1" not in task_ids(d, "mine") and "Gave back" in text(d, "#flash"))
    status, task = request(server.base, "GET", "/api/v1/tasks/dlg-1", alice)
    assert (task["assignee"], task["owner"], task["delegationState"]) == ("alice", "alice", "resolved")
    events = request(server.base, "GET", "/api/v1/tasks/dlg-1/history", alice)[1]["items"]
    assert [(e["action"], e["actor"]) for e in events][-2:] == [("delegate", "alice"), ("resolve", "bob")]
    assert events[-2]["comment"] == "Bob knows this supplier"

    browser.get(server.base + "/?user=alice&task=dlg-1")  # back with its owner: Complete is hers again
    wait(browser, "alice may complete it", lambda d: d.find_element(By.ID, "complete").is_displayed())
    assert "given back by its owner" in text(browser, "#detail-fields")
    assert request(server.base, "POST", "/api/v1/tasks/dlg-1/action/complete", alice)[0] == 200
    assert console_errors(browser, ALLOWED_FAILURES) == []


def test_set_and_end_my_absence(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=alice")
    wait(browser, "signed in, the Team button shown", lambda d: d.find_element(By.ID, "team-open").is_displayed())
    click(browser, "#team-open")
    wait(browser, "no absence yet", lambda d: text(d, "#absence-now") == "No absence set."
         and d.find_elements(By.CSS_SELECTOR, '#absence-delegate option[value="bob"]'))
    assert not browser.find_element(By.ID, "absence-end").is_displayed()
    until = (datetime.now(UTC) + timedelta(days=3)).astimezone()  # the input is in local time
    browser.execute_script("document.getElementById('absence-until').value = arguments[0]",
                           until.strftime("%Y-%m-%dT%H:%M"))
    Select(browser.find_element(By.ID, "absence-delegate")).select_by_value("bob")
    Select(browser.find_element(By.ID, "absence-mode")).select_by_value("share")
    click(browser, "#absence-set")
    wait(browser, "the absence shown", lambda d: "Bob Baker (bob) stands in (share)" in text(d, "#absence-now")
         and d.find_element(By.ID, "absence-end").is_displayed())
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    admin = token(server.state, "admin", "admin")
    status, body = request(server.base, "GET", "/api/v1/users?filter=alice", admin)
    absence = next(u for u in body["items"] if u["id"] == "alice")["absence"]
    assert (absence["delegateTo"], absence["mode"]) == ("bob", "share")
    assert absence["until"][:16] == until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")

    click(browser, "#absence-end")
    wait(browser, "ended", lambda d: text(d, "#absence-now") == "No absence set."
         and not d.find_element(By.ID, "absence-end").is_displayed())
    status, body = request(server.base, "GET", "/api/v1/users?filter=alice", admin)
    assert next(u for u in body["items"] if u["id"] == "alice").get("absence") is None
    assert console_errors(browser, ALLOWED_FAILURES) == []
