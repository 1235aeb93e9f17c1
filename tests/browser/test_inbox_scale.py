"""The inbox with 500 tasks in Alice's queue, in headless chromium against `baton serve` on
DynamoDB Local: the lists keep their place while others work (rows change in place from the event
feed, paging and scroll stay, new rows are highlighted and counted), and the compact mode shows at
least 20 rows in a 900 px high window."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.config import Config
from botocore.session import Session
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By

from baton.domain import Caller
from baton.storage.dynamo import Dynamo
from baton.tasks.service import TaskService
from baton_local.ddblocal import DynamoDBLocal
from tests.support.browser import console_errors
from tests.support.browser import wait as browser_wait
from tests.support.localserver import Server, on_engine, request, token

pytestmark = pytest.mark.xdist_group("pages")  # one worker for the pages: its module fixtures set up once
WAIT = 60  # seconds: a shared, loaded machine
TASKS = 500
ALLOWED_FAILURES = ("favicon.ico",)


def bulk_task(i: int) -> dict[str, Any]:
    return {"id": f"bulk-{i:03d}", "name": f"Check invoice {i:03d}", "description": f"Invoice batch {i // 50}",
            "candidateGroups": ["ops"], "priority": 10 + (i * 7) % 60}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    engine = on_engine(ddb_local)
    srv = Server(tmp_path_factory.mktemp("baton-state"), *engine).start()
    # The 500 tasks created as the demo data is (baton_local.demo.load): through the task service on
    # the server's table, three times faster than over HTTP; the feed sees them all the same.
    client = Session().create_client("dynamodb", endpoint_url=ddb_local.endpoint, region_name="us-east-1",
                                     config=Config(max_pool_connections=8))
    service = TaskService(Dynamo(client, engine[engine.index("--table") + 1]),
                          Caller(user_id="admin", username="admin", tenant="workflow", roles=frozenset({"admin"})))
    with ThreadPoolExecutor(8) as pool:
        assert all(created for _, created in pool.map(lambda i: service.create(bulk_task(i)), range(TASKS)))
    yield srv
    srv.stop()


def wait(driver: WebDriver, what: str, condition: Any, timeout: float = WAIT) -> None:
    browser_wait(driver, what, condition, timeout)


def ids(driver: WebDriver, column: str) -> list[str]:
    return list(driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(li => li.dataset.id)", f"#{column} li.task"))


def load_everything(driver: WebDriver) -> None:
    """Page through Alice's whole queue with its More button."""
    while True:
        more = driver.find_element(By.ID, "queue-more")
        if not more.is_displayed():
            return
        count = len(ids(driver, "queue"))
        driver.execute_script("arguments[0].click()", more)
        wait(driver, "the next page", lambda d, n=count: len(ids(d, "queue")) > n or not d.find_element(
            By.ID, "queue-more").is_displayed())


def on_screen(driver: WebDriver) -> list[str]:
    """The queue rows on screen (wholly or in part), top to bottom."""
    return list(driver.execute_script(
        "return [...document.querySelectorAll('#queue li.task')].filter(li => { const r = li.getBoundingClientRect();"
        " return r.bottom > 0 && r.top < window.innerHeight; }).map(li => li.dataset.id)"))


def screen_top(driver: WebDriver, task_id: str) -> float:
    return float(driver.execute_script(
        "return document.querySelector(`#queue li[data-id='${arguments[0]}']`).getBoundingClientRect().top", task_id))


def test_the_queue_keeps_its_place_while_others_claim_and_work_arrives(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=alice")
    wait(browser, "the first page of alice's queue", lambda d: len(ids(d, "queue")) == 50)
    wait(browser, "live", lambda d: "live" in d.find_element(By.ID, "live").text)
    load_everything(browser)
    loaded = ids(browser, "queue")
    assert len(loaded) == TASKS + 4  # and the demo's task-1, task-2, task-6 (group ops) and task-4 (alice)
    assert browser.find_element(By.ID, "queue-count").text == f"({TASKS + 4})"

    # Read far down the list: the row at the top of the screen is the reader's place.
    browser.execute_script("document.querySelector(`#queue li[data-id='${arguments[0]}']`).scrollIntoView()",
                           loaded[300])
    assert browser.execute_script("return window.scrollY") > 10000
    seen = on_screen(browser)
    place = seen[0]

    # Bob claims three tasks above that place and one right at it; an admin adds three tasks to the
    # ops queue (two above the place, one below it).
    bob = token(server.state, "bob", "operations")
    admin = token(server.state, "admin", "admin")
    taken = [loaded[0], loaded[10], loaded[200], place]
    anchor = next(i for i in seen if i not in taken)  # the first row on screen that stays
    top = screen_top(browser, anchor)
    for task_id in taken:
        assert request(server.base, "POST", f"/api/v1/tasks/{task_id}/action/claim", bob)[0] == 200
    added = [{"id": "urgent-1", "name": "Urgent: revoke access", "candidateGroups": ["ops"], "priority": 99},
             {"id": "urgent-2", "name": "Urgent: reset MFA", "candidateGroups": ["ops"], "priority": 98},
             {"id": "late-1", "name": "Archive old invoices", "candidateGroups": ["ops"], "priority": 1}]
    for body in added:
        assert request(server.base, "POST", "/api/v1/tasks", admin, body)[0] == 201

    def settled(d: WebDriver) -> bool:
        now = ids(d, "queue")
        return not set(taken) & set(now) and {"urgent-1", "urgent-2", "late-1"} <= set(now)

    wait(browser, "the claims and the new tasks shown in place", settled)
    now = ids(browser, "queue")
    assert len(now) == len(loaded) - len(taken) + len(added)  # nothing reset to the first page
    assert now[:2] == ["urgent-1", "urgent-2"] and now[-1] == "late-1"
    assert [i for i in now if i not in ("urgent-1", "urgent-2", "late-1")] == [i for i in loaded if i not in taken]
    assert browser.find_element(By.ID, "queue-new").text == "3 new"
    highlighted = browser.execute_script(
        "return [...document.querySelectorAll('#queue li.task.new')].map(li => li.dataset.id)")
    assert sorted(highlighted) == ["late-1", "urgent-1", "urgent-2"]
    # The reader's place: the first row on screen that nobody touched has not moved on the screen.
    assert abs(screen_top(browser, anchor) - top) < 3, (screen_top(browser, anchor), top)

    # Alice claims the row on screen: it moves to her tasks; the rows on screen stay where they were.
    target = anchor
    seen = on_screen(browser)
    anchor = next(i for i in seen if i != target)
    top = screen_top(browser, anchor)
    browser.find_element(By.CSS_SELECTOR, f'#queue li[data-id="{target}"] button[data-action="claim"]').click()
    wait(browser, "the claimed row in alice's tasks",
         lambda d: target in ids(d, "mine") and target not in ids(d, "queue"))
    assert ids(browser, "mine") == [target]
    assert len(ids(browser, "queue")) == len(now) - 1
    assert abs(screen_top(browser, anchor) - top) < 3
    assert browser.find_element(By.ID, "queue-new").text == "3 new"  # her own claim is not news

    # "3 new" shows them and marks them seen.
    browser.find_element(By.ID, "queue-new").click()
    wait(browser, "seen", lambda d: not d.find_element(By.ID, "queue-new").is_displayed())
    assert browser.execute_script("return document.querySelectorAll('#queue li.task.new').length") == 0
    assert console_errors(browser, ALLOWED_FAILURES) == []


def test_compact_mode_shows_twenty_rows_in_a_900_px_window(server: Server, browser: WebDriver) -> None:
    browser.get(server.base + "/?user=bob")
    wait(browser, "bob's queue", lambda d: len(ids(d, "queue")) >= 50)

    def rows_on_screen(d: WebDriver) -> int:
        return int(d.execute_script(
            "return [...document.querySelectorAll('li.task')].filter(li => { const r = li.getBoundingClientRect();"
            " return r.top >= 0 && r.bottom <= window.innerHeight; }).length"))

    assert browser.execute_script("return window.innerHeight") <= 900
    roomy = rows_on_screen(browser)
    browser.find_element(By.ID, "compact").click()
    wait(browser, "compact rows", lambda d: rows_on_screen(d) >= 20)
    assert rows_on_screen(browser) > roomy
    height = browser.execute_script("return document.querySelector('#queue li.task').getBoundingClientRect().height")
    assert height <= 32
    # the choice is remembered in this browser, for this user
    browser.get(server.base + "/?user=bob")
    wait(browser, "compact again", lambda d: len(ids(d, "queue")) >= 50 and rows_on_screen(d) >= 20)
    assert browser.find_element(By.ID, "compact").is_selected()
