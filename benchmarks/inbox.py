"""The inbox in Debian's headless chromium under `baton serve` (on DynamoDB Local) with a queue of
`tasks` tasks: the first paint (from the navigation's start to both lists' first page shown, the
page's `baton-first-paint` mark: sign-in, the directory, both lists) and an action's round trip
(the page's `baton-action` measure: a Claim's request and its row moved to My tasks). Measured,
reported in `make bench`, asserted nowhere (the browser tier only checks behaviour)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PAGE_MARK = "return (performance.getEntriesByName('baton-first-paint')[0] || {}).startTime || null"
ACTIONS = "return performance.getEntriesByName('baton-action').map(e => e.duration)"


@contextmanager
def _chromium() -> Iterator[Any]:
    """Debian's headless chromium and its driver (`make chromium`), as the browser tier runs them."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="baton-bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise TimeoutError("the inbox did not get there")


def measure_inbox(tasks: int, loads: int, actions: int) -> dict[str, Any]:
    from botocore.config import Config
    from botocore.session import Session
    from selenium.webdriver.common.by import By

    from baton.domain import Caller
    from baton.storage.dynamo import Dynamo
    from baton.tasks.service import TaskService
    from baton_local.ddblocal import DynamoDBLocal
    from baton_local.harness import Server

    engine = DynamoDBLocal().start()
    table = f"inbox-{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as state:
            server = Server(Path(state), "--dynamodb-endpoint", engine.endpoint, "--table", table).start()
            try:
                client = Session().create_client("dynamodb", endpoint_url=engine.endpoint, region_name="us-east-1",
                                                 config=Config(max_pool_connections=8))
                service = TaskService(Dynamo(client, table), Caller(user_id="admin", username="admin",
                                                                    tenant="workflow", roles=frozenset({"admin"})))
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda i: service.create({
                        "id": f"bench-{i:04d}", "name": f"Check invoice {i:04d}", "candidateGroups": ["ops"],
                        "priority": 10 + (i * 7) % 60}), range(tasks)))
                with _chromium() as driver:
                    paints: list[float] = []
                    for _ in range(loads):
                        driver.get(server.base + "/?user=alice")
                        paints.append(float(_wait(lambda: driver.execute_script(PAGE_MARK))))
                    trips: list[float] = []
                    for _ in range(actions):
                        before = len(driver.execute_script(ACTIONS))
                        row = driver.find_element(By.CSS_SELECTOR, "#queue li.task")
                        task_id = row.get_attribute("data-id")
                        row.find_element(By.CSS_SELECTOR, 'button[data-action="claim"]').click()
                        _wait(lambda before=before: len(driver.execute_script(ACTIONS)) > before)
                        _wait(lambda task_id=task_id: driver.find_elements(
                            By.CSS_SELECTOR, f'#mine li.task[data-id="{task_id}"]'))
                        trips.append(float(driver.execute_script(ACTIONS)[-1]))
            finally:
                server.stop()
    finally:
        engine.stop()
    return {"tasks": tasks, "loads": loads, "actions": actions,
            "first_paint_ms": {"p50": round(statistics.median(paints)), "max": round(max(paints))},
            "action_round_trip_ms": {"p50": round(statistics.median(trips)), "max": round(max(trips))}}
