"""`GET /local/events`: the task events as Server-Sent Events, read from the table's stream.

`baton serve` reads its DynamoDB's stream (the DynamoDB Streams API on the same endpoint, as
DynamoDB Local serves it) from the oldest record it keeps, turns records into CloudEvents with
the same function the AWS Pipe's enrichment uses (`baton.tasks.stream.publishable_events`), and keeps
them in stream order; a record that cannot become an event is skipped and counted (`EventLog.skipped`,
and a warning), never fatal. Nothing is remembered across restarts but the stream itself: after a crash
the feed is rebuilt from the stream, in the same order, so `Last-Event-ID` (the id of the last
event a client got) resumes exactly after it. A client sees its own tenant's events only.

The feed knows no HTTP server: `EventFeed.stream()` yields the bytes of the response body, and
the server writes them as they come (see `SSE_HEADERS`)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from baton.tasks.events import tenant_of_event
from baton.tasks.stream import publishable_events

PATH = "/local/events"
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
               "X-Content-Type-Options": "nosniff",
               "X-Accel-Buffering": "no"}
POLL_SECONDS = 0.05  # how often an idle shard is asked again while a client listens
IDLE_POLL_SECONDS = 1.0  # ... and while none does (a client arriving wakes the reader at once)
BUSY_SECONDS = 5.0  # ... and for this long after records last came (the router waits on them)
KEEPALIVE_SECONDS = 15.0  # a comment line this often, so a dead client is noticed
CATCH_UP_SECONDS = 30.0  # how long a resuming client waits for the feed to reach its id

log = logging.getLogger("baton.local.eventfeed")
# Something else the stream drives locally (Step Functions callbacks, the router): called with
# every batch of stream records the reader gets, and with [] on each idle turn.
Consumer = Callable[[list[dict[str, Any]]], None]


@dataclass(frozen=True)
class Entry:
    tenant: str
    id: str
    frame: bytes  # the SSE message, ready to send


def frame(event: dict[str, Any]) -> bytes:
    """One SSE message: the CloudEvent id as the SSE id, the event as JSON data."""
    return f"id: {event['id']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


class EventLog:
    """The feed's events in stream order, each once (a re-read of the stream adds nothing)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.index: dict[str, int] = {}
        self.changed = threading.Condition()
        self.caught_up = threading.Event()  # the reader has reached the stream's end once
        self.listeners = 0  # open SSE responses
        self.wanted = threading.Event()  # set when a client arrives (and on close): read now
        self.skipped = 0  # stream records that could not become events (skipped, never fatal)

    def extend(self, events: list[dict[str, Any]]) -> None:
        with self.changed:
            for event in events:
                if event["id"] not in self.index:
                    self.index[event["id"]] = len(self.entries)
                    self.entries.append(Entry(tenant_of_event(event), event["id"], frame(event)))
            self.changed.notify_all()

    def position_after(self, tenant: str, last_id: str | None) -> int | None:
        """Where a client resuming after `last_id` goes on (None: the id is unknown to the feed)."""
        if not last_id:
            return 0
        with self.changed:
            at = self.index.get(last_id)
            if at is None or self.entries[at].tenant != tenant:
                return None
            return at + 1


class StreamReader:
    """Reads every shard of the table's stream, parents before children, into an EventLog.
    `lock` is held around each stream call (the moto fallback is not thread-safe)."""

    def __init__(self, client: Any, streams: Any, table: str, log_: EventLog,
                 lock: contextlib.AbstractContextManager[Any] | None = None,
                 consumers: Sequence[Consumer] = ()) -> None:
        self.client, self.streams, self.table, self.log = client, streams, table, log_
        self.consumers = list(consumers)  # also given every batch of records (callbacks, the router)
        self.lock = lock or contextlib.nullcontext()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="baton-eventfeed", daemon=True)
        self.after: dict[str, str] = {}  # shard -> last sequence number read
        self.done: set[str] = set()  # closed shards read to their end
        self.last_records = float("-inf")  # when records last came (time.monotonic())

    def start(self) -> StreamReader:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.log.wanted.set()
        self.thread.join(5)

    def _call(self, op: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            return op(**kwargs)

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StreamArn": arn}
        while True:
            desc = self._call(self.streams.describe_stream, **kwargs)["StreamDescription"]
            shards += desc.get("Shards", [])
            if not desc.get("LastEvaluatedShardId"):
                return shards
            kwargs["ExclusiveStartShardId"] = desc["LastEvaluatedShardId"]

    def _iterator(self, arn: str, shard: str) -> str:
        kwargs: dict[str, Any] = {"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}
        if shard in self.after:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self.after[shard])
        return str(self._call(self.streams.get_shard_iterator, **kwargs)["ShardIterator"])

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                self._read()
            except (BotoCoreError, ClientError) as err:  # DynamoDB restarting, an iterator expired
                log.warning("event feed: stream read failed (%s); resuming", err)
                self.stop.wait(1.0)
            except Exception:  # a fault of ours: logged, and the reader goes on (it never dies)
                log.exception("event feed: the stream reader failed; resuming")
                self.stop.wait(1.0)

    def _consume(self, records: list[dict[str, Any]]) -> None:
        for consumer in self.consumers:
            try:
                consumer(records)
            except Exception:  # one consumer's fault never stops the feed or the others
                log.exception("event feed: a stream consumer failed")

    def _read(self) -> None:
        arn = self._call(self.client.describe_table, TableName=self.table)["Table"]["LatestStreamArn"]
        iterators: dict[str, str] = {}
        refresh = True
        while not self.stop.is_set():
            if refresh or not iterators:  # at the start, and when a shard closed (its children follow)
                shards = self._shards(arn)
                ids = {s["ShardId"] for s in shards}
                for shard in shards:
                    sid, parent = shard["ShardId"], shard.get("ParentShardId")
                    ready = parent is None or parent in self.done or parent not in ids
                    if sid not in self.done and sid not in iterators and ready:
                        iterators[sid] = self._iterator(arn, sid)
                refresh = False
            got = False
            for sid, it in list(iterators.items()):
                out = self._call(self.streams.get_records, ShardIterator=it, Limit=1000)
                records = out.get("Records", [])
                if records:
                    got = True
                    self.last_records = time.monotonic()
                    self.after[sid] = records[-1]["dynamodb"]["SequenceNumber"]
                    events, skipped = publishable_events(records)
                    if skipped:
                        self.log.skipped += skipped
                        log.warning("event feed: %d stream records skipped (%d in all)", skipped, self.log.skipped)
                    self.log.extend(events)
                    self._consume(records)
                if out.get("NextShardIterator"):
                    iterators[sid] = out["NextShardIterator"]
                else:
                    self.done.add(sid)
                    del iterators[sid]
                    refresh = True
            if not got:
                self._consume([])  # an idle turn: consumers retry what they could not do yet
                self.log.caught_up.set()
                # Quickly while someone listens or records are flowing (the router routes what they
                # bring); slowly otherwise (every `baton serve` keeps a reader: twenty reads a
                # second of an idle stream were most of an idle server's work).
                flowing = time.monotonic() - self.last_records < BUSY_SECONDS
                self.log.wanted.wait(POLL_SECONDS if self.log.listeners or flowing else IDLE_POLL_SECONDS)
                self.log.wanted.clear()


class EventFeed:
    def __init__(self, client: Any, streams: Any, table: str,
                 lock: contextlib.AbstractContextManager[Any] | None = None,
                 consumers: Sequence[Consumer] = ()) -> None:
        self.log = EventLog()
        self.reader = StreamReader(client, streams, table, self.log, lock, consumers)

    def start(self) -> EventFeed:
        self.reader.start()
        return self

    def close(self) -> None:
        self.reader.close()

    def stream(self, tenant: str, last_event_id: str | None, until: float | None = None) -> Iterator[bytes]:
        """The body of one SSE response: the tenant's events after `last_event_id` (all the
        stream keeps when it is None or unknown), then each new one as it comes, until the time
        `until` (the token's `exp`, epoch seconds, by baton's clock) or forever."""
        from baton import clock

        def remaining() -> float:
            return KEEPALIVE_SECONDS if until is None else until - clock.current().timestamp()

        with self.log.changed:
            self.log.listeners += 1
        self.log.wanted.set()
        try:
            position = self.log.position_after(tenant, last_event_id)
            if position is None:  # maybe not read yet after a restart: wait until the feed caught up
                self.log.caught_up.wait(CATCH_UP_SECONDS)
                position = self.log.position_after(tenant, last_event_id)
            yield b"retry: 1000\n\n"
            if position is None:
                yield b": unknown Last-Event-ID; replaying every event the stream keeps\n\n"
                position = 0
            while remaining() > 0:  # the token expired: the stream ends (the client signs in again)
                with self.log.changed:
                    if position >= len(self.log.entries):
                        self.log.changed.wait(min(KEEPALIVE_SECONDS, remaining()))
                    batch = self.log.entries[position:]
                position += len(batch)
                frames = b"".join(e.frame for e in batch if e.tenant == tenant)
                if frames:
                    yield frames
                elif not batch:  # nothing at all for a while
                    yield b": keep-alive\n\n"
        finally:
            with self.log.changed:
                self.log.listeners -= 1


def events_endpoint(api: Any, request: Any) -> Any:
    """`GET /local/events` for the local server (its LocalApi and werkzeug Request): the caller's
    tenant's events as Server-Sent Events, streamed until the client goes away."""
    from werkzeug.wrappers import Response

    from baton_local import tokens
    from baton_local.server import json_response, unauthorized

    feed: EventFeed | None = api.feed
    if feed is None:
        return json_response(503, {"message": "The event feed is not running"})
    try:
        claims = api.authorize(request)
    except tokens.InvalidToken as err:
        return unauthorized(str(err) or None)
    tenant, expires = claims.get("custom:tenant"), claims.get("exp")
    if not tenant or not re.fullmatch(r"[0-9]{1,12}", str(expires or "")):
        return unauthorized("no tenant or expiry")
    body = feed.stream(str(tenant), request.headers.get("Last-Event-ID"), until=float(str(expires)))
    return Response(body, 200, headers=SSE_HEADERS, direct_passthrough=True)


def open_feed(endpoint: str | None, region: str, table: str,
              lock: contextlib.AbstractContextManager[Any] | None = None,
              consumers: Sequence[Consumer] = ()) -> EventFeed:
    """A started feed on the table at `endpoint` (DynamoDB and its Streams API on one endpoint)."""
    from botocore.session import Session

    session = Session()
    client = session.create_client("dynamodb", endpoint_url=endpoint, region_name=region)
    streams = session.create_client("dynamodbstreams", endpoint_url=endpoint, region_name=region)
    return EventFeed(client, streams, table, lock, consumers).start()
