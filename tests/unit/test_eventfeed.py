"""The local event feed's reader: slow while nobody listens, woken at once when a client comes."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from baton_local import eventfeed


class FakeDynamo:
    def describe_table(self, **_: Any) -> dict[str, Any]:
        return {"Table": {"LatestStreamArn": "arn:stream"}}


class FakeStreams:
    """One open shard, never any record; each read is counted and signalled."""

    def __init__(self) -> None:
        self.reads = 0
        self.read = threading.Condition()

    def describe_stream(self, **_: Any) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it"}

    def get_records(self, **_: Any) -> dict[str, Any]:
        with self.read:
            self.reads += 1
            self.read.notify_all()
        return {"Records": [], "NextShardIterator": "it"}

    def wait_for(self, reads: int, timeout: float = 10) -> bool:
        with self.read:
            return self.read.wait_for(lambda: self.reads >= reads, timeout)


def test_an_idle_reader_waits_long_and_a_client_wakes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eventfeed, "IDLE_POLL_SECONDS", 3600.0)  # idle: it would not read again this hour
    streams = FakeStreams()
    feed = eventfeed.EventFeed(FakeDynamo(), streams, "t").start()
    try:
        assert streams.wait_for(1)
        assert feed.log.caught_up.wait(10)
        reads = streams.reads
        body = feed.stream("acme", None)
        assert next(body) == b"retry: 1000\n\n"  # a client is listening: the reader is woken
        assert streams.wait_for(reads + 3), streams.reads  # ... and reads quickly while it listens
        assert feed.log.listeners == 1
        body.close()  # the client went away
        assert feed.log.listeners == 0
    finally:
        feed.close()
    assert not feed.reader.thread.is_alive()


# ---- a poison record (issue 23, item 2) ----------------------------------------------------------

def history_record(tenant: str, task: str, version: int = 1) -> dict[str, Any]:
    """A stream record of a history item, as DynamoDB hands it (a lone surrogate survives its JSON)."""
    from baton.storage.keys import Keys

    pk = Keys.task(tenant, task)["pk"]
    image = {"pk": {"S": pk}, "sk": {"S": f"H#{version:012d}"}, "id": {"S": f"{task}-{version}"},
             "taskId": {"S": task}, "version": {"N": str(version)}, "at": {"S": "2026-01-01T00:00:00Z"},
             "actor": {"S": "root"}, "action": {"S": "create"}, "to": {"S": "open"}}
    return {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}, "NewImage": image,
                                                "SequenceNumber": f"{version:021d}"}}


POISON = [history_record("\ud800bad", "t1"), history_record("acme", "t\udfff"),
          {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "T#acme#TASK#x"}, "sk": {"S": "H#1"}},
                                               "NewImage": {"pk": {"S": "T#acme#TASK#x"}}}}]  # no id, no version


def test_records_that_cannot_become_events_are_skipped_and_counted() -> None:
    from baton.tasks.stream import cloud_events, publishable_events

    good = [history_record("acme", "a"), history_record("acme", "b")]
    batch = [good[0], *POISON, good[1]]
    events, skipped = publishable_events(batch)
    assert [e["id"] for e in events] == ["a-1", "b-1"] and skipped == len(POISON)
    assert cloud_events(batch) == events


class RecordStreams(FakeStreams):
    """One open shard holding the given batches, one per read, then nothing."""

    def __init__(self, batches: list[list[dict[str, Any]]]) -> None:
        super().__init__()
        self.batches = batches

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        super().get_records(**kwargs)
        return {"Records": self.batches.pop(0) if self.batches else [], "NextShardIterator": "it"}


def test_a_poison_record_does_not_stop_the_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the reader thread died on the record (UnicodeEncodeError in `quote`), for good
    (a restart re-read it), while open streams kept sending keep-alives."""
    monkeypatch.setattr(eventfeed, "KEEPALIVE_SECONDS", 0.5)  # a dead reader shows as keep-alives, quickly
    streams = RecordStreams([[history_record("acme", "before"), POISON[0]], [history_record("acme", "after")]])
    feed = eventfeed.EventFeed(FakeDynamo(), streams, "t").start()
    try:
        body = feed.stream("acme", None)
        assert next(body) == b"retry: 1000\n\n"
        got = b""
        for _ in range(40):
            got += next(body)
            if got.count(b"id: ") == 2:
                break
        assert b"before-1" in got and b"after-1" in got
        assert feed.log.skipped == 1 and feed.reader.thread.is_alive()
        body.close()
    finally:
        feed.close()


def test_the_enrichment_skips_poison_records_and_counts_them(capsys: pytest.CaptureFixture[str]) -> None:
    """The AWS side (functions/task_events.py): the batch's good events out, one metric line
    (CloudWatch's embedded metric format) counting the skipped records; the alarm on it is in
    tests/infra/test_infra.py."""
    import json

    from baton_functions.task_events import lambda_handler

    out = lambda_handler([history_record("acme", "a"), *POISON], None)
    assert [e["id"] for e in out] == ["a-1"]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "CloudWatchMetrics" in line]
    assert len(lines) == 1 and lines[0]["SkippedStreamRecords"] == len(POISON)
    (directive,) = lines[0]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Baton" and directive["Metrics"] == [{"Name": "SkippedStreamRecords",
                                                                            "Unit": "Count"}]
    assert lambda_handler([history_record("acme", "b")], None)[0]["id"] == "b-1"
    assert "CloudWatchMetrics" not in capsys.readouterr().out  # nothing skipped, no metric


@pytest.mark.usefixtures("controlled_clock")
def test_a_stream_ends_when_its_token_expires() -> None:
    """Issue 23, item 7: an open stream went on delivering after its token's `exp`. Now the body
    ends then (the client signs in again). Time moves by baton's clock, not by waiting."""
    from baton import clock

    streams = RecordStreams([[history_record("acme", "early")]])
    feed = eventfeed.EventFeed(FakeDynamo(), streams, "t").start()
    try:
        assert feed.log.caught_up.wait(10)
        body = feed.stream("acme", None, until=clock.current().timestamp() + 60)
        assert next(body) == b"retry: 1000\n\n"
        assert b"early-1" in next(body)
        clock.advance(61)
        with feed.log.changed:
            feed.log.changed.notify_all()  # wake it now (else it would wake at its next keep-alive)
        assert list(body) in ([], [b": keep-alive\n\n"])  # then it ends
        assert feed.log.listeners == 0
    finally:
        feed.close()
