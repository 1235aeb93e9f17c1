"""The browser pages in a real headless chromium against `baton serve` on DynamoDB Local:
the inbox (demo sign-in, claim, my tasks, release, history) and Swagger UI offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from baton.routes import ROUTES
from baton.tasks.service import CLAIM_SPREAD
from baton_local.ddblocal import DynamoDBLocal
from tests.support.browser import chromium, console_errors, resources, screenshot
from tests.support.localserver import Server, on_engine, request, token

pytestmark = pytest.mark.xdist_group("pages")
WAIT = 30  # seconds: a shared, loaded machine
# Failed loads that are fine: no favicon, and the event feed where the server has none.
ALLOWED_FAILURES = ("favicon.ico", "/local/events")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    yield srv
    srv.stop()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


def wait(driver: WebDriver, what: str, condition: object) -> None:
    # The inbox re-renders its lists on every refresh or event: an element read a moment ago may be gone.
    # Asked every 50 ms (Selenium's default is every 500 ms: mostly idle time, waiting).
    WebDriverWait(driver, WAIT, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message=what)  # type: ignore[operator]


def task_ids(driver: WebDriver, column: str) -> list[str]:
    # One script call reads the whole list, so a re-render between reads can't leave a stale element.
    ids = driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(li => li.dataset.id || '')", f"#{column} li.task")
    return list(ids)


def text(driver: WebDriver, selector: str) -> str:
    """The rendered text of the first element matching `selector` ('' when none), read in one script call."""
    found = driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", selector)
    return str(found)


def press(driver: WebDriver, column: str, task_id: str, action: str) -> None:
    selector = f'#{column} li[data-id="{task_id}"] button[data-action="{action}"]'

    def click(d: WebDriver) -> bool:
        d.find_element(By.CSS_SELECTOR, selector).click()
        return True

    wait(driver, f"{action} on {task_id} pressed", click)


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
    press(browser, "mine", "task-6", "complete")
    wait(browser, "task-6 done", lambda d: "task-6" not in task_ids(d, "mine")
         and "Completed" in text(d, "#flash"))
    carol = token(server.state, "carol", "engineering")
    status, task = request(server.base, "GET", "/api/v1/tasks/task-6", carol)
    assert status == 200 and (task["status"], task["assignee"]) == ("completed", "carol")
    status, events = request(server.base, "GET", "/api/v1/tasks/task-6/history", carol)
    assert [(e["action"], e["actor"]) for e in events["items"]] == [
        ("create", "admin"), ("claim", "alice"), ("reassign", "alice"), ("complete", "carol")]
    assert events["items"][2]["comment"] == "Carol knows this contractor"


def test_inbox_claim_next_takes_the_first_of_my_queue(server: Server, browser: WebDriver, tmp_path: Path) -> None:
    browser.get(server.base + "/?user=bob")
    wait(browser, "bob's queue", lambda d: "task-4" in task_ids(d, "queue"))
    queue = task_ids(browser, "queue")
    assert queue[:2] == ["task-4", "task-2"]  # queue order: priority 90, then 80
    assert "priority 90" in text(browser, '#queue li[data-id="task-4"] .priority')
    assert text(browser, '#queue li[data-id="task-4"] .due').startswith("due ")
    browser.find_element(By.ID, "claim-next").click()
    # claim-next takes one of the head of the queue (it spreads concurrent workers: baton.tasks.service)
    head = queue[:CLAIM_SPREAD]
    wait(browser, "a task of the queue's head claimed", lambda d: len(task_ids(d, "mine")) == 1
         and task_ids(d, "mine")[0] in head and task_ids(d, "mine")[0] not in task_ids(d, "queue"))
    claimed = task_ids(browser, "mine")[0]
    assert text(browser, "#flash").startswith("Claimed ")
    bob = token(server.state, "bob", "operations")
    status, task = request(server.base, "GET", f"/api/v1/tasks/{claimed}", bob)
    assert status == 200 and task["assignee"] == "bob" and task["name"] in text(browser, "#flash")
    screenshot(browser, "inbox-claim-next.png", tmp_path)
    press(browser, "mine", claimed, "release")
    wait(browser, "the task back in the queue, in queue order", lambda d: task_ids(d, "queue")[:2] == queue[:2]
         and not task_ids(d, "mine"))
