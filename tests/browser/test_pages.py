"""The browser pages in a real headless chromium against `baton serve` on DynamoDB Local:
the inbox (demo sign-in, claim, my tasks, release, history, a task's page, reassign within the
task's policy, complete behind a confirmation, the keyboard, notifications, the supervisor view,
400 px wide, axe-core's accessibility rules) and Swagger UI offline. One server for the module
and the test process's browser (tests/browser/conftest.py; tests/browser/test_inbox_scale.py has
the 500-task inbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from baton.routes import ROUTES
from tests.support.browser import (
    axe_violations,
    click,
    console_errors,
    resources,
    screenshot,
    serious,
    task_ids,
    text,
    wait,
)
from tests.support.localserver import Server, request, token

pytestmark = pytest.mark.xdist_group("pages")
# Failed loads that are fine: no favicon, and the event feed where the server has none.
ALLOWED_FAILURES = ("favicon.ico", "/local/events")


def press(driver: WebDriver, column: str, task_id: str, action: str) -> None:
    click(driver, f'#{column} li[data-id="{task_id}"] button[data-action="{action}"]')


def test_inbox_sign_in_claim_my_tasks_release(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    browser.get(server.base + "/?user=alice")
    wait(browser, "signed in as alice", lambda d: "alice" in text(d, "#who"))
    assert "operations" in text(browser, "#who")
    wait(browser, "task-1 in alice's queue", lambda d: "task-1" in task_ids(d, "queue"))
    assert "task-1" not in task_ids(browser, "mine")
    screenshot(browser, "inbox-queue.png", tmp_path)

    press(browser, "queue", "task-1", "claim")
    wait(browser, "task-1 moved to my tasks", lambda d: "task-1" in task_ids(d, "mine")
         and "task-1" not in task_ids(d, "queue"))
    assert "Claimed" in text(browser, "#flash")
    alice = token(server.state, "alice", "operations")
    status, task = request(server.base, "GET", "/api/v1/tasks/task-1", alice)
    assert status == 200 and task["assignee"] == "alice"

    press(browser, "mine", "task-1", "history")
    wait(browser, "history shows the claim", lambda d: [
        row.find_elements(By.TAG_NAME, "td")[3].text for row in d.find_elements(By.CSS_SELECTOR, "#history tr")
    ] == ["create", "claim"])
    screenshot(browser, "inbox-claimed.png", tmp_path)

    press(browser, "mine", "task-1", "release")
    wait(browser, "task-1 back in the queue", lambda d: "task-1" in task_ids(d, "queue")
         and "task-1" not in task_ids(d, "mine"))
    status, task = request(server.base, "GET", "/api/v1/tasks/task-1", alice)
    assert status == 200 and task["assignee"] is None
    status, events = request(server.base, "GET", "/api/v1/tasks/task-1/history", alice)
    assert [e["action"] for e in events["items"]] == ["create", "claim", "release"]
    assert all(e["actor"] == "alice" for e in events["items"][1:])
    assert console_errors(browser, ALLOWED_FAILURES) == []
    assert all(url.startswith(server.base) for url in resources(browser)), resources(browser)
    assert browser.execute_script("return window.localStorage.length") == 0


def test_inbox_sign_in_by_choosing_a_demo_user_then_out(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/")
    wait(browser, "the demo users", lambda d: d.find_elements(By.CSS_SELECTOR, '#demo-users button[data-user="bob"]'))
    browser.find_element(By.CSS_SELECTOR, '#demo-users button[data-user="bob"]').click()
    wait(browser, "signed in as bob", lambda d: "bob" in text(d, "#who"))
    assert browser.current_url.endswith("/?user=bob")  # a deep link to come back with
    wait(browser, "bob's queue", lambda d: "task-2" in task_ids(d, "queue"))
    browser.find_element(By.ID, "sign-out").click()
    wait(browser, "signed out", lambda d: d.find_element(By.ID, "sign-in").is_displayed())
    assert not browser.find_element(By.ID, "app").is_displayed()


def test_swagger_renders_every_route_offline(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    browser.get(server.base + "/swagger")
    documented = {(r.method, r.path) for r in ROUTES if not r.page}

    def shown(d: WebDriver) -> set[tuple[str, str]]:
        blocks = d.find_elements(By.CSS_SELECTOR, ".opblock")
        return {(b.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
                 b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path") or "")
                for b in blocks}

    wait(browser, "every route rendered", lambda d: shown(d) == documented)
    screenshot(browser, "swagger.png", tmp_path)
    urls = resources(browser)
    assert all(url.startswith(server.base) for url in urls), urls
    assert any(url.endswith("/swagger/swagger-ui-bundle.js") for url in urls)
    assert console_errors(browser, ("favicon.ico",)) == []

    # Authorize with a token and call a route: the token is used, and kept in no storage.
    alice = token(server.state, "alice", "operations")
    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    wait(browser, "the authorize dialog", lambda d: d.find_elements(By.CSS_SELECTOR, ".auth-container input"))
    browser.find_element(By.CSS_SELECTOR, ".auth-container input").send_keys(alice)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.btn-done").click()
    stored = browser.execute_script(
        "return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])")
    assert alice not in stored and "Bearer" not in stored


def test_inbox_reassign_then_complete(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=alice")
    wait(browser, "task-6 in alice's queue", lambda d: "task-6" in task_ids(d, "queue"))
    press(browser, "queue", "task-6", "claim")
    wait(browser, "task-6 in my tasks", lambda d: "task-6" in task_ids(d, "mine"))
    press(browser, "mine", "task-6", "reassign")
    wait(browser, "the reassign form", lambda d: d.find_element(By.ID, "reassign").is_displayed()
         and d.find_elements(By.CSS_SELECTOR, '#reassign-user option[value="carol"]'))
    Select(browser.find_element(By.ID, "reassign-user")).select_by_value("carol")
    browser.find_element(By.ID, "reassign-comment").send_keys("Carol knows this contractor")
    assert browser.find_element(By.ID, "reassign-user").get_attribute("value") == "carol"
    browser.find_element(By.CSS_SELECTOR, "#reassign button[type=submit]").click()
    wait(browser, "task-6 gone from alice's tasks", lambda d: "task-6" not in task_ids(d, "mine")
         and "Reassigned" in text(d, "#flash"))

    browser.get(server.base + "/?user=carol")
    wait(browser, "task-6 in carol's tasks", lambda d: "task-6" in task_ids(d, "mine"))
    # Complete asks for a comment (and an outcome where the task has some), then for a confirmation.
    press(browser, "mine", "task-6", "complete")
    wait(browser, "the complete form", lambda d: d.find_element(By.ID, "complete").is_displayed())
    browser.find_element(By.ID, "complete-outcome").send_keys("approved")
    browser.find_element(By.ID, "complete-comment").send_keys("Access granted for 30 days")
    browser.find_element(By.CSS_SELECTOR, "#complete button[type=submit]").click()
    wait(browser, "the confirmation", lambda d: d.find_element(By.ID, "confirm").is_displayed())
    assert "Review contractor access" in text(browser, "#confirm-text")
    browser.find_element(By.CSS_SELECTOR, '#confirm button[value="no"]').click()
    wait(browser, "no confirmation", lambda d: not d.find_element(By.ID, "confirm").is_displayed())
    assert "task-6" in task_ids(browser, "mine")  # cancelled: nothing sent
    browser.find_element(By.CSS_SELECTOR, "#complete button[type=submit]").click()
    wait(browser, "the confirmation", lambda d: d.find_element(By.ID, "confirm").is_displayed())
    browser.find_element(By.ID, "confirm-yes").click()
    wait(browser, "task-6 done", lambda d: "task-6" not in task_ids(d, "mine")
         and "Completed" in text(d, "#flash"))
    wait(browser, "the page shows it completed", lambda d: "completed" in text(d, "#detail-fields")
         and not d.find_element(By.ID, "complete").is_displayed())
    carol = token(server.state, "carol", "engineering")
    status, task = request(server.base, "GET", "/api/v1/tasks/task-6", carol)
    assert status == 200 and (task["status"], task["assignee"]) == ("completed", "carol")
    status, events = request(server.base, "GET", "/api/v1/tasks/task-6/history", carol)
    assert [(e["action"], e["actor"]) for e in events["items"]] == [
        ("create", "admin"), ("claim", "alice"), ("reassign", "alice"), ("complete", "carol")]
    assert events["items"][2]["comment"] == "Carol knows this contractor"
    assert events["items"][3]["comment"] == "Access granted for 30 days"
    assert task["outcome"] == "approved"


def test_inbox_claim_next_takes_the_first_of_my_queue(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    browser.get(server.base + "/?user=bob")
    wait(browser, "bob's queue", lambda d: "task-4" in task_ids(d, "queue"))
    queue = task_ids(browser, "queue")
    assert queue[:2] == ["task-4", "task-2"]  # queue order: priority 90, then 80
    assert "priority 90" in text(browser, '#queue li[data-id="task-4"] .priority')
    assert text(browser, '#queue li[data-id="task-4"] .due').startswith("due ")
    says = text(browser, "#claim-next-says")  # the button says what it does (aria-describedby)
    assert browser.find_element(By.ID, "claim-next").get_attribute("aria-describedby") == "claim-next-says"
    assert "takes the top task of your queue" in says and "one of the next few" in says
    browser.find_element(By.ID, "claim-next").click()
    # nobody competes: claim-next takes the head of the queue (the priority-90 task)
    wait(browser, "the queue's head claimed", lambda d: task_ids(d, "mine") == ["task-4"]
         and "task-4" not in task_ids(d, "queue"))
    claimed = task_ids(browser, "mine")[0]
    assert text(browser, "#flash").startswith("Claimed ")
    bob = token(server.state, "bob", "operations")
    status, task = request(server.base, "GET", f"/api/v1/tasks/{claimed}", bob)
    assert status == 200 and task["assignee"] == "bob" and task["name"] in text(browser, "#flash")
    screenshot(browser, "inbox-claim-next.png", tmp_path)
    press(browser, "mine", claimed, "release")
    wait(browser, "the task back in the queue, in queue order", lambda d: task_ids(d, "queue")[:2] == queue[:2]
         and not task_ids(d, "mine"))


def test_reassign_offers_only_whom_the_policy_allows_and_marks_a_required_comment(
        server: Server, browser: WebDriver) -> None:
    # task-4: reassign only among alice, bob and carol, with a reason (local/demo.py)
    browser.get(server.base + "/?user=alice")
    wait(browser, "task-4 in alice's queue", lambda d: "task-4" in task_ids(d, "queue"))
    press(browser, "queue", "task-4", "claim")
    wait(browser, "task-4 in my tasks", lambda d: "task-4" in task_ids(d, "mine"))
    press(browser, "mine", "task-4", "reassign")
    wait(browser, "the reassign form", lambda d: d.find_element(By.ID, "reassign").is_displayed()
         and d.find_elements(By.CSS_SELECTOR, "#reassign-user option"))
    offered = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#reassign-user option")]
    assert offered == ["bob", "carol"]  # not dave, not admin, not herself
    assert "only to" in text(browser, "#reassign-policy")
    assert "(required)" in text(browser, "#reassign-comment-label")
    comment = browser.find_element(By.ID, "reassign-comment")
    assert comment.get_attribute("required") == "true" and comment.get_attribute("aria-required") == "true"
    browser.find_element(By.CSS_SELECTOR, "#reassign button[type=submit]").click()  # no comment: not sent
    assert browser.execute_script("return document.getElementById('reassign-comment').validity.valueMissing")
    alice = token(server.state, "alice", "operations")
    assert request(server.base, "GET", "/api/v1/tasks/task-4", alice)[1]["assignee"] == "alice"
    events = request(server.base, "GET", "/api/v1/tasks/task-4/history", alice)[1]["items"]
    assert (events[-1]["action"], events[-1]["actor"]) == ("claim", "alice")  # no reassign was sent
    # task-1 names no one: every active user but alice may take it
    press(browser, "mine", "task-4", "release")
    wait(browser, "task-4 back in the queue", lambda d: "task-4" in task_ids(d, "queue"))


def test_a_task_page_by_its_link_then_back(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    admin = token(server.state, "admin", "admin")
    status, _ = request(server.base, "POST", "/api/v1/tasks", admin, {
        "id": "page-1", "name": "Approve the supplier contract", "candidateGroups": ["eng"], "priority": 70,
        "description": "Read the contract in the shared drive,\nthen approve or reject it.",
        "dueDate": "2026-11-20T09:00:00Z", "leaseSeconds": 3600,
        "policy": {"allowedReassignees": ["carol", "dave"], "requireReassignmentReason": True}})
    assert status == 201
    browser.get(server.base + "/?user=dave&task=page-1")
    wait(browser, "the task's page", lambda d: d.find_element(By.ID, "detail").is_displayed()
         and text(d, "#detail-title") == "Approve the supplier contract")
    assert "then approve or reject it." in text(browser, "#detail-description")
    fields = text(browser, "#detail-fields")
    for shown in ("page-1", "group eng", "only to Carol Cruz (carol), Dave Díaz (dave)", "a comment is required",
                  "3600 s per claim", "(overdue)", "priority"):
        assert shown in fields, (shown, fields)
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#history td.what")] == ["create"]
    assert not browser.find_element(By.ID, "complete").is_displayed()  # nobody holds it yet
    screenshot(browser, "inbox-task.png", tmp_path)

    # Claimed from its page: the page and the lists follow; the lease shows.
    click(browser, '#detail-actions button[data-action="claim"]')
    wait(browser, "claimed", lambda d: "page-1" in task_ids(d, "mine") and "held until" in text(d, "#detail-fields"))
    wait(browser, "the claim in the history", lambda d: [
        td.text for td in d.find_elements(By.CSS_SELECTOR, "#history td.what")] == ["create", "claim"])

    # Another task's row opens that task (a new history entry); Back returns to page-1, and closes it.
    wait(browser, "task-3 in dave's queue", lambda d: "task-3" in task_ids(d, "queue"))
    click(browser, '#queue li[data-id="task-3"] .title a')
    wait(browser, "task-3 shown", lambda d: text(d, "#detail-title") == "Provision laptop")
    assert "task=task-3" in browser.current_url
    browser.back()
    wait(browser, "page-1 again", lambda d: text(d, "#detail-title") == "Approve the supplier contract")
    click(browser, "#detail-close")
    wait(browser, "closed", lambda d: not d.find_element(By.ID, "detail").is_displayed())
    assert "task=" not in browser.current_url
    browser.back()
    wait(browser, "page-1 by Back", lambda d: d.find_element(By.ID, "detail").is_displayed()
         and text(d, "#detail-title") == "Approve the supplier contract")
    dave = token(server.state, "dave", "engineering,PM_FACTORY")
    assert request(server.base, "POST", "/api/v1/tasks/page-1/action/release", dave)[0] == 200


def test_history_reads_in_whole_words(server: Server, browser: WebDriver) -> None:
    admin = token(server.state, "admin", "admin")
    assert request(server.base, "POST", "/api/v1/tasks", admin, {"id": "hist-1", "name": "Decommission the server",
                                                                  "candidateGroups": ["eng"]})[0] == 201
    carol = token(server.state, "carol", "engineering")
    assert request(server.base, "POST", "/api/v1/tasks/hist-1/action/claim", carol)[0] == 200
    assert request(server.base, "POST", "/api/v1/tasks/hist-1/action/reassign", carol, {
        "newStepUserIds": ["dave"], "comment": "Dave administers the decommissioning checklist"})[0] == 200
    browser.get(server.base + "/?user=carol&task=hist-1")
    wait(browser, "hist-1's history", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#history tr")) == 3)
    for width in (1280, 1024, 400):
        browser.set_window_size(width, 900)
        broken = browser.execute_script("""
            const broken = [];
            for (const cell of document.querySelectorAll('#history td, .history th')) {
              const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
              for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const re = /\\S+/g; let m;
                while ((m = re.exec(node.data))) {
                  const range = document.createRange();
                  range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
                  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                  if (lines.size > 1) broken.push(m[0]);
                }
              }
            }
            return broken;""")
        assert broken == [], (width, broken)


def test_keyboard_moves_claims_searches_and_helps(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=carol")
    wait(browser, "carol's queue", lambda d: "task-3" in task_ids(d, "queue"))
    body = browser.find_element(By.TAG_NAME, "body")
    queue = task_ids(browser, "queue")
    everything = task_ids(browser, "mine") + queue

    def current(d: WebDriver) -> str:
        return str(d.execute_script(
            "const e = document.querySelector('li.task.current'); return e ? e.dataset.id : ''"))

    body.send_keys("j")
    wait(browser, "the first row current", lambda d: current(d) == everything[0])
    body.send_keys("j")
    wait(browser, "the second row current", lambda d: current(d) == everything[1])
    body.send_keys("k")
    wait(browser, "back to the first", lambda d: current(d) == everything[0])
    target = "task-3"
    while current(browser) != target:
        body.send_keys("j")
    browser.switch_to.active_element.send_keys("c")
    wait(browser, "task-3 claimed by c", lambda d: "task-3" in task_ids(d, "mine") and "Claimed" in text(d, "#flash"))

    browser.switch_to.active_element.send_keys("/")
    wait(browser, "the search box focused", lambda d: d.switch_to.active_element.get_attribute("id") == "f-q")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.find_element(By.TAG_NAME, "body").send_keys("?")
    wait(browser, "the help", lambda d: d.find_element(By.ID, "help").is_displayed())
    assert "claim next" in text(browser, "#help")
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(browser, "the help closed", lambda d: not d.find_element(By.ID, "help").is_displayed())
    carol = token(server.state, "carol", "engineering")
    assert request(server.base, "POST", "/api/v1/tasks/task-3/action/release", carol)[0] == 200
    wait(browser, "task-3 back in the queue (the feed)", lambda d: "task-3" in task_ids(d, "queue"))
    browser.find_element(By.TAG_NAME, "body").send_keys("n")
    wait(browser, "claim next by n", lambda d: len(task_ids(d, "mine")) == 1 and "Claimed" in text(d, "#flash"))
    claimed = task_ids(browser, "mine")[0]
    assert request(server.base, "POST", f"/api/v1/tasks/{claimed}/action/release", carol)[0] == 200


def test_no_serious_accessibility_violations(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/")
    wait(browser, "the demo users", lambda d: d.find_elements(By.CSS_SELECTOR, "#demo-users button"))
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    browser.get(server.base + "/?user=alice&task=task-2")
    wait(browser, "the inbox with a task open", lambda d: "task-1" in task_ids(d, "queue")
         and text(d, "#detail-title") == "Review access request #2")
    browser.find_element(By.CSS_SELECTOR, "#filters summary").click()
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    browser.find_element(By.ID, "compact").click()
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    assert console_errors(browser, ALLOWED_FAILURES) == []


def test_at_400_px_wide_nothing_scrolls_sideways(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    browser.set_window_size(400, 800)
    browser.get(server.base + "/?user=alice&task=task-2")
    wait(browser, "the inbox", lambda d: "task-1" in task_ids(d, "queue")
         and d.find_element(By.ID, "detail").is_displayed())
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert width <= 400

    def overflow(d: WebDriver) -> list[str]:
        return list(d.execute_script("""
            const w = document.documentElement.clientWidth, out = [];
            if (document.documentElement.scrollWidth > w) out.push('page ' + document.documentElement.scrollWidth);
            for (const e of document.querySelectorAll('button, a, input, select, h1, h2, .who')) {
              const r = e.getBoundingClientRect();
              if (r.width && (r.left < 0 || r.right > w + 0.5)) out.push(e.id || e.textContent.trim().slice(0, 30));
            }
            return out;"""))

    assert overflow(browser) == []
    screenshot(browser, "inbox-400px.png", tmp_path)
    browser.find_element(By.CSS_SELECTOR, "#filters summary").click()
    browser.find_element(By.ID, "compact").click()
    assert overflow(browser) == []


def test_notifications_when_work_is_offered_to_me(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=bob")
    wait(browser, "bob's queue, live", lambda d: "task-2" in task_ids(d, "queue") and "live" in text(d, "#live"))
    # The browser's notifications, recorded: headless chromium shows none (the page asks, the user allows).
    browser.execute_script("""
        window.shown = [];
        window.Notification = class { constructor(title, options) { window.shown.push([title, options.body]); } };
        Notification.permission = 'default';
        Notification.requestPermission = async () => { Notification.permission = 'granted'; return 'granted'; };""")
    admin = token(server.state, "admin", "admin")
    assert request(server.base, "POST", "/api/v1/tasks", admin, {"id": "note-0", "name": "Before opting in",
                                                                  "candidateUsers": ["bob"]})[0] == 201
    wait(browser, "note-0 in the queue, no notification", lambda d: "note-0" in task_ids(d, "queue"))
    assert browser.execute_script("return window.shown") == []
    browser.find_element(By.ID, "notify").click()
    wait(browser, "opted in", lambda d: d.find_element(By.ID, "notify").is_selected())
    assert request(server.base, "POST", "/api/v1/tasks", admin, {"id": "note-1", "name": "Call the auditor back",
                                                                  "candidateUsers": ["bob"]})[0] == 201
    wait(browser, "a notification for note-1", lambda d: d.execute_script("return window.shown").__len__() == 1)
    assert browser.execute_script("return window.shown") == [["Baton: new in your queue", "Call the auditor back"]]
    assert browser.find_element(By.ID, "queue-new").text == "2 new"
    for task_id in ("note-0", "note-1"):
        assert request(server.base, "POST", f"/api/v1/tasks/{task_id}/action/abandon", admin)[0] == 200
    wait(browser, "gone from the queue", lambda d: "note-1" not in task_ids(d, "queue"))


def test_supervisor_sees_open_tasks_by_holder_and_acts_in_bulk(server: Server, browser: WebDriver,
                                                               tmp_path: Path) -> None:
    admin = token(server.state, "admin", "admin")
    for i in (1, 2):
        assert request(server.base, "POST", "/api/v1/tasks", admin, {"id": f"sup-{i}", "name": f"Renew certificate {i}",
                                                                      "candidateGroups": ["eng"]})[0] == 201
    dave = token(server.state, "dave", "engineering,PM_FACTORY")
    assert request(server.base, "POST", "/api/v1/tasks/sup-1/action/claim", dave)[0] == 200
    browser.get(server.base + "/?user=admin&view=supervise")
    wait(browser, "the supervisor view", lambda d: d.find_elements(By.CSS_SELECTOR, '#sup-groups tr[data-id="sup-2"]'))
    holders = [s.get_attribute("data-holder")
               for s in browser.find_elements(By.CSS_SELECTOR, "#sup-groups section.holder")]
    assert holders[0] == "" and "dave" in holders  # nobody first, then by holder
    assert browser.find_elements(By.CSS_SELECTOR, 'section.holder[data-holder="dave"] tr[data-id="sup-1"]')
    for task_id in ("sup-1", "sup-2", "task-5"):
        pick = f'#sup-groups input[data-id="{task_id}"]'
        wait(browser, f"{task_id} picked", lambda d, pick=pick: d.find_element(By.CSS_SELECTOR, pick).is_selected()
             or d.find_element(By.CSS_SELECTOR, pick).click() or d.find_element(By.CSS_SELECTOR, pick).is_selected())
    assert text(browser, "#bulk-selected") == "3 selected"
    Select(browser.find_element(By.ID, "bulk-action")).select_by_value("reassign")
    Select(browser.find_element(By.ID, "bulk-user")).select_by_value("carol")
    browser.find_element(By.ID, "bulk-comment").send_keys("Carol covers certificates this week")
    browser.find_element(By.CSS_SELECTOR, "#bulk button[type=submit]").click()
    wait(browser, "per-task results", lambda d: len(d.find_elements(By.CSS_SELECTOR, "#bulk-results li")) == 3)
    statuses = {li.get_attribute("data-id"): li.get_attribute("data-status")
                for li in browser.find_elements(By.CSS_SELECTOR, "#bulk-results li")}
    assert statuses["sup-1"] == "200" and statuses["sup-2"] == "200" and statuses["task-5"] != "200"
    assert "2 of 3 done" in text(browser, "#bulk-results")
    wait(browser, "carol holds them now", lambda d: d.find_elements(
        By.CSS_SELECTOR, 'section.holder[data-holder="carol"] tr[data-id="sup-2"]'))
    screenshot(browser, "inbox-supervise.png", tmp_path)
    assert axe_violations(browser) == [], serious(axe_violations(browser))
    for i in (1, 2):
        assert request(server.base, "POST", f"/api/v1/tasks/sup-{i}/action/abandon", admin)[0] == 200


def test_filters_live_in_the_url_and_back_undoes_them(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=bob")
    wait(browser, "bob's queue", lambda d: {"task-1", "task-2", "task-4"} <= set(task_ids(d, "queue")))
    everything = task_ids(browser, "queue")
    click(browser, "#filters summary")
    browser.find_element(By.ID, "f-pmin").send_keys("80")
    click(browser, "#f-apply2")
    wait(browser, "priority 80 and up", lambda d: task_ids(d, "queue") == ["task-4", "task-2"])
    assert "priorityMin=80" in browser.current_url
    browser.find_element(By.ID, "f-group").send_keys("ops")
    click(browser, "#f-apply2")
    wait(browser, "and of group ops", lambda d: task_ids(d, "queue") == ["task-2"])
    assert "group=ops" in browser.current_url
    link = browser.current_url
    browser.find_element(By.ID, "f-save").click()
    saved = browser.execute_script("return Object.keys(localStorage).filter(k => k.startsWith('baton.filter.'))")
    assert saved == ["baton.filter.workflow.bob"]

    browser.back()
    wait(browser, "Back: priority only", lambda d: task_ids(d, "queue") == ["task-4", "task-2"])
    assert browser.find_element(By.ID, "f-group").get_attribute("value") == ""
    browser.back()
    wait(browser, "Back: no filter", lambda d: task_ids(d, "queue") == everything)
    browser.find_element(By.ID, "f-load").click()  # the saved filter
    wait(browser, "the saved filter again", lambda d: task_ids(d, "queue") == ["task-2"])
    assert browser.current_url == link
    browser.get(link)  # the link is the filter
    wait(browser, "the link's list", lambda d: task_ids(d, "queue") == ["task-2"])

    browser.find_element(By.ID, "f-clear").click()
    wait(browser, "cleared", lambda d: task_ids(d, "queue") == everything)
    browser.find_element(By.ID, "f-q").send_keys("task-4", Keys.ENTER)
    wait(browser, "found by id", lambda d: task_ids(d, "queue") == ["task-4"])
    assert "q=task-4" in browser.current_url
    assert console_errors(browser, ALLOWED_FAILURES) == []


def test_the_inbox_marks_tasks_past_due_and_fired_escalations(server: Server, browser: WebDriver) -> None:
    """A step already due fires within a second of `baton serve` (its sweeper thread); the queue row
    then says so, next to the due date marked overdue."""
    from datetime import UTC, datetime, timedelta

    admin = token(server.state, "admin", "admin")
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    status, _ = request(server.base, "POST", "/api/v1/tasks", admin, {
        "id": "late-1", "name": "Renew the certificate", "candidateUsers": ["dave"], "dueDate": past,
        "escalations": [{"id": "ping", "after": "PT1M", "from": "due", "action": "raise-priority", "priority": 95}]})
    assert status == 201
    browser.get(server.base + "/?user=dave")
    row = '#queue li[data-id="late-1"]'
    wait(browser, "the escalation shown on the row", lambda d: "escalated (ping)" in text(d, row))
    shown = text(browser, row)
    assert "(overdue)" in shown and "priority 95" in shown, shown
