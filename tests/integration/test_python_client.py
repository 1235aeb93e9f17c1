"""The Python client (clients/python) against `baton serve` over real HTTP on DynamoDB Local:
every sign-in flow, create, get, claim, claim-next, release, heartbeat, complete, abandon,
history and listings through the paging iterator, If-Match (412 as PreconditionFailed) and the
typed 4xx errors. tests/unit/test_python_client.py checks it against the OpenAPI document."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from baton_client import (
    BadRequest,
    BatonClient,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthorized,
)
from baton_local import credentials
from baton_local.ddblocal import DynamoDBLocal
from tests.support.localserver import Server, on_engine, token

pytestmark = pytest.mark.xdist_group("python_client")  # one worker, one `baton serve`


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, ddb_local: DynamoDBLocal) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("baton-state"), *on_engine(ddb_local)).start()
    yield srv
    srv.stop()


def as_user(server: Server, user: str, roles: str = "operations") -> BatonClient:
    return BatonClient(server.base, token=token(server.state, user, roles))


def secret(server: Server, name: str) -> str:
    return credentials.demo_secret(credentials.seed(server.state), name)


def new_id() -> str:
    return f"py-{uuid.uuid4().hex[:8]}"


def test_sign_in_flows(server: Server) -> None:
    with BatonClient(server.base) as client:
        with pytest.raises(Unauthorized):
            client.get_task("task-1")  # no token
        with pytest.raises(Unauthorized) as refused:
            client.sign_in_client_credentials("itential-demo", "wrong")
        assert refused.value.code == "invalid_client" and client.token is None
        grant = client.sign_in_client_credentials("itential-demo", secret(server, "itential-demo"))
        assert grant.token_type == "Bearer" and grant.expires_in and client.token == grant.access_token
        assert client.get_task("task-1").id == "task-1"
    with BatonClient(server.base) as client:
        client.sign_in_password("workflow", "alice", secret(server, "alice"), client_id="processmaker-demo",
                                client_secret=secret(server, "processmaker-demo"))
        assert client.get_task("task-1").name.startswith("Review")
        with pytest.raises(Unauthorized):
            client.sign_in_password("other", "alice", secret(server, "alice"), client_id="processmaker-demo",
                                    client_secret=secret(server, "processmaker-demo"))
    with BatonClient(server.base) as client:
        client.sign_in_login("bob", secret(server, "bob"))
        assert client.list_tasks(candidate="me", limit=1).items
    with BatonClient(server.base) as client:
        assert client.sign_in_demo("carol").expires_in == 3600
        assert client.get_task("task-3").candidate_users == ["carol"]


def test_create_claim_release_complete_with_if_match_and_history(server: Server) -> None:
    admin = as_user(server, "admin", "admin")
    alice, bob = as_user(server, "alice"), as_user(server, "bob")
    task_id = new_id()
    created = admin.create_task("Approve the purchase", id=task_id, candidate_users=["alice", "bob"], priority=80,
                                due_date="2026-12-01T00:00:00Z", description="PO 42")
    assert created.version == 1 and created.status == "open" and created.priority == 80
    again = admin.create_task("Approve the purchase", id=task_id, candidate_users=["alice", "bob"], priority=80,
                              due_date="2026-12-01T00:00:00Z", description="PO 42")
    assert again == created  # the same request again: the same task (200), not a second one
    claimed = alice.claim(task_id, if_match=created)
    assert claimed.assignee == "alice" and claimed.version == 2
    with pytest.raises(PreconditionFailed) as stale:
        alice.release(task_id, if_match=created)  # version 1 is gone
    assert stale.value.status == 412
    with pytest.raises(Conflict) as held:
        bob.claim(task_id)
    assert held.value.holder == "alice"
    released = alice.release(task_id, if_match=claimed.etag)
    assert released.assignee is None
    leased = bob.claim(task_id, lease_seconds=120)
    assert leased.lease_expires_at is not None
    assert bob.heartbeat(task_id, lease_seconds=300, if_match=leased).version == leased.version + 1
    done = bob.complete(task_id, comment="fine")
    assert done.status == "completed" and bob.get_task(task_id).status == "completed"
    events = list(admin.iter_history(task_id, page_size=2))  # three pages
    assert [e.action for e in events][:4] == ["create", "claim", "release", "claim"]
    assert events[-1].action == "complete" and events[-1].actor == "bob" and events[-1].comment == "fine"
    assert [e.version for e in events] == sorted(e.version for e in events)
    page = admin.history(task_id, limit=2)
    assert len(page.items) == 2 and page.cursor


def test_claim_next_abandon_and_the_paging_iterator(server: Server) -> None:
    admin = as_user(server, "admin", "admin")
    group = f"g-{uuid.uuid4().hex[:6]}"
    dave = as_user(server, "dave", "engineering")
    made = [admin.create_task(f"Batch {i}", id=new_id(), candidate_users=["dave"], candidate_groups=[group],
                              priority=10 + i) for i in range(5)]
    queue = [t.id for t in dave.iter_tasks(candidate="me", status="open", page_size=2)]
    assert {t.id for t in made} <= set(queue)
    first = dave.claim_next(lease_seconds=60)
    assert first is not None and first.assignee == "dave"
    assert dave.abandon(first.id, comment="not mine").status == "abandoned"
    inbox = list(dave.iter_tasks(assignee="me", status="open", page_size=1))
    assert first.id not in {t.id for t in inbox}
    emptied = as_user(server, f"nobody-{uuid.uuid4().hex[:4]}")
    assert emptied.claim_next() is None  # 204: an empty queue


def test_complete_with_an_outcome_and_variables(server: Server) -> None:
    admin = as_user(server, "admin", "admin")
    carol = as_user(server, "carol", "engineering")
    task_id = admin.create_task("Decide", id=new_id(), candidate_users=["carol"]).id
    carol.claim(task_id)
    done = carol.complete(task_id, outcome="approved", variables={"amount": 42, "tags": ["a"]})
    assert done.status == "completed" and done.outcome == "approved" and done.completed_by == "carol"
    assert done.variables == {"amount": 42, "tags": ["a"]} and carol.get_task(task_id).outcome == "approved"
    assert admin.history(task_id).items[-1].action == "complete"


def test_typed_4xx_errors(server: Server) -> None:
    admin = as_user(server, "admin", "admin")
    with pytest.raises(NotFound):
        admin.get_task(new_id())
    with pytest.raises(BadRequest) as bad:
        admin.create_task("x" * 300)
    assert bad.value.code and bad.value.body
    with pytest.raises(Forbidden):
        as_user(server, "alice").create_task("not allowed")
    with pytest.raises(Unauthorized):
        BatonClient(server.base, token="not-a-token").get_task("task-1")
