"""Step Functions callbacks from the table's changes (baton.tasks.callbacks): which change asks
for which call, and a delivery that has its effect once (a replayed record calls nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from baton.attrs import to_attr
from baton.storage.dynamo import get_dynamo
from baton.tasks.callbacks import CLAIM_SECONDS, IN_FLIGHT, TOKEN, Callback, Deliverer, callback_of, callbacks_of
from tests.support.states import RecordingStates

PK = "T#acme#TASK#t1"


def record(old: dict[str, Any], new: dict[str, Any], name: str = "MODIFY") -> dict[str, Any]:
    def image(data: dict[str, Any]) -> dict[str, Any]:
        return {k: to_attr(v) for k, v in {"pk": PK, "sk": "TASK", "id": "t1", **data}.items()}
    return {"eventName": name, "dynamodb": {"Keys": {"pk": {"S": PK}, "sk": {"S": "TASK"}},
                                            "OldImage": image(old), "NewImage": image(new)}}


OPEN = {"status": "open", "version": 2, "assignee": "ann", TOKEN: "tok-123"}


def test_complete_abandon_and_heartbeat_ask_for_their_calls() -> None:
    done = callback_of(record(OPEN, {**OPEN, "status": "completed", "version": 3, "outcome": "approved",
                                     "variables": {"n": 1}, "completedBy": "ann", "completedAt": "T"}))
    assert done is not None and done.kind == "success" and done.version == 3 and done.tenant == "acme"
    assert done.output == {"taskId": "t1", "outcome": "approved", "variables": {"n": 1}, "completedBy": "ann",
                           "completedAt": "T"}
    gave_up = callback_of(record(OPEN, {**OPEN, "status": "abandoned", "version": 3}))
    assert gave_up is not None and gave_up.kind == "failure"
    leased = {**OPEN, "leaseExpiresAt": "2026-01-01T00:00:00.000000Z"}
    beat = callback_of(record(leased, {**leased, "version": 3, "leaseExpiresAt": "2026-01-01T00:05:00.000000Z"}))
    assert beat is not None and beat.kind == "heartbeat"


def test_other_changes_and_tasks_without_a_token_ask_for_nothing() -> None:
    plain = {k: v for k, v in OPEN.items() if k != TOKEN}
    assert callback_of(record(plain, {**plain, "status": "completed"})) is None
    assert callback_of(record(OPEN, {**OPEN, "assignee": "bob", "version": 3})) is None  # a reassign
    assert callback_of(record(OPEN, {**OPEN, "status": "completed"}, name="INSERT")) is None
    closed = {**OPEN, "status": "completed"}
    assert callback_of(record(closed, {**closed, "version": 4})) is None  # already finished before
    batch = [record(OPEN, {**OPEN, "assignee": None}), record(OPEN, {**OPEN, "status": "abandoned"})]
    assert [i for i, _ in callbacks_of(batch)] == [1]


def test_the_token_never_shows_in_a_callbacks_text() -> None:
    cb = Callback("acme", "t1", 3, "success", "secret-token", {})
    assert "secret-token" not in repr(cb) and "secret-token" not in str(cb)


@pytest.fixture
def states() -> RecordingStates:
    return RecordingStates()


def test_a_replayed_record_has_one_effect(moto_table: str, states: RecordingStates) -> None:
    deliverer = Deliverer(get_dynamo(), states.client)
    cb = Callback("acme", "t1", 3, "success", "tok", {"taskId": "t1", "outcome": "approved"})
    assert deliverer.deliver(cb) == "sent"
    assert deliverer.deliver(cb) == "duplicate"
    assert states.operations() == ["SendTaskSuccess"]
    assert json.loads(states.calls[0][1]["output"])["outcome"] == "approved"


def test_a_fault_is_retried_by_raising_and_a_closed_token_is_recorded(moto_table: str,
                                                                     states: RecordingStates) -> None:
    deliverer = Deliverer(get_dynamo(), states.client)
    cb = Callback("acme", "t1", 3, "failure", "tok")
    states.fail_next("ServiceUnavailable")
    with pytest.raises(ClientError):
        deliverer.deliver(cb)
    assert deliverer.deliver(cb) == "sent"  # the retry of the record
    assert states.calls[-1] == ("SendTaskFailure", {"taskToken": "tok", "error": "Baton.TaskAbandoned",
                                                    "cause": "Task t1 was abandoned"})
    gone = Callback("acme", "t2", 5, "success", "tok2", {})
    states.fail_next("TaskTimedOut")
    assert deliverer.deliver(gone) == "closed"
    assert deliverer.deliver(gone) == "duplicate"  # recorded: never retried


def test_baton_serves_consumer_retries_with_backoff_then_dead_letters(moto_table: str, controlled_clock: None,
                                                                      tmp_path: Any) -> None:
    from baton import clock
    from baton_local.callbacks import MAX_ATTEMPTS, CallbackConsumer

    states = RecordingStates()
    consumer = CallbackConsumer(Deliverer(get_dynamo(), states.client), tmp_path)
    finished = record(OPEN, {**OPEN, "status": "completed", "version": 3})
    states.fail_next("ServiceUnavailable")
    consumer([finished])
    assert states.calls == [] and len(consumer.pending) == 1
    consumer([])  # too early: backing off
    assert states.calls == []
    clock.advance(1)
    consumer([])
    assert states.operations() == ["SendTaskSuccess"] and consumer.pending == []
    consumer([finished])  # the same record again (a restart re-reads the stream): no second call
    assert states.operations() == ["SendTaskSuccess"]
    assert [o for _, o in consumer.outcomes] == ["sent", "duplicate"]

    gone = record(OPEN, {**OPEN, "status": "abandoned", "version": 9})
    for _ in range(MAX_ATTEMPTS):
        states.fail_next("ServiceUnavailable")
    consumer([gone])
    for _ in range(MAX_ATTEMPTS):
        clock.advance(120)
        consumer([])
    assert consumer.pending == [] and consumer.outcomes[-1][1] == "dead-letter"
    dead = (tmp_path / "callbacks-dead-letter.jsonl").read_text()
    assert '"version": 9' in dead and "tok-123" not in dead


def test_a_second_reader_finds_the_call_in_flight_and_calls_nothing(moto_table: str, controlled_clock: None) -> None:
    """Two readers of one stream (two `baton serve` on one table) deliver the same record at once:
    the second finds the first's claim and is retried after it; then the outcome says: duplicate."""
    states = RecordingStates()
    first, second = Deliverer(get_dynamo(), states.client), Deliverer(get_dynamo(), states.client)
    cb = Callback("acme", "t1", 3, "success", "tok", {"taskId": "t1"})
    during: list[str] = []
    send = states.client.send_task_success

    def racing(**kwargs: Any) -> Any:  # while the first deliverer's call is made
        with pytest.raises(ClientError) as raised:
            second.deliver(cb)
        during.append(raised.value.response["Error"]["Code"])
        return send(**kwargs)

    states.client.send_task_success = racing
    assert first.deliver(cb) == "sent"
    assert during == [IN_FLIGHT]
    assert second.deliver(cb) == "duplicate"
    assert states.operations() == ["SendTaskSuccess"]


def test_a_claim_left_by_a_dead_deliverer_is_taken_over_when_it_runs_out(moto_table: str,
                                                                        controlled_clock: None) -> None:
    from baton import clock

    states = RecordingStates()
    cb = Callback("acme", "t1", 3, "heartbeat", "tok")
    dead = Deliverer(get_dynamo(), states.client)
    assert dead._claim(cb) is not None  # claimed, then the process died before calling
    with pytest.raises(ClientError):
        Deliverer(get_dynamo(), states.client).deliver(cb)
    clock.advance(CLAIM_SECONDS + 1)
    assert Deliverer(get_dynamo(), states.client).deliver(cb) == "sent"
    assert states.operations() == ["SendTaskHeartbeat"]
