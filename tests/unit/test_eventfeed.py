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
