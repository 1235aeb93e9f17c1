"""The router in AWS (API.md "People"; infra/router.py wires it): one function, two event sources.

- The table's stream, through an event source mapping filtered by `baton.tasks.stream.
  ROUTER_FILTERS`: each record's triggers (`routing_triggers`) go to `baton.tasks.routing.Router`,
  the same code `baton serve`'s stream reader drives (baton_local.router), a batch's records
  routed together. Routing decides on the state it reads, so a record delivered twice costs a
  read. A record that cannot be read as a trigger is a poison record: skipped and counted
  (`SkippedRouterRecords`, alarmed), never fatal, as the events' enrichment does
  (functions/task_events.py). A failure to route (DynamoDB
  unavailable, throttled, too busy) reports the batch's first record (ReportBatchItemFailures): the
  mapping retries from it, bisects, and finally sends its description to the dead-letter queue.
- The offer timers: an offer seen on the stream (a task `offeredTo` someone until
  `offerExpiresAt`) is a message to the offer queue (`BATON_OFFER_QUEUE_URL`) delayed until the
  offer expires (SQS delays up to 15 minutes: a longer offer's message is delayed again when it
  arrives). When it arrives the router routes the task again: an expired offer goes to the next
  member (`offer-expired`) or back to the queue; an offer accepted, rejected or renewed meanwhile
  leaves nothing to do (the renewal has its own message). `baton serve` keeps these timers in the
  router's memory instead (Router.sweep)."""
# ruff: noqa: E402 (the cold-start measures start before the imports below)

from __future__ import annotations

from baton.edge import coldstart  # isort: skip

coldstart.prepare()

import json
import math
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from baton import clock
from baton.edge.observability import emit_count, logger
from baton.errors import BatonError
from baton.settings import get_settings
from baton.storage.dynamo import get_dynamo
from baton.tasks.routing import Router
from baton.tasks.stream import Trigger, routing_triggers

SKIPPED_METRIC = "SkippedRouterRecords"
MAX_DELAY = 900  # seconds: SQS's longest message delay
RETRYABLE = (BotoCoreError, ClientError, BatonError)  # BatonError: a task too busy to route this time


@lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs", region_name=get_settings().region)


def delay_until(at: str) -> int:
    """Seconds from now until `at` (a stored timestamp), within what SQS can delay."""
    due = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return max(0, min(MAX_DELAY, math.ceil((due - clock.current()).total_seconds())))


def schedule_offers(found: Iterable[Trigger]) -> int:
    """A delayed message per offer among `found`, arriving when it expires; how many were sent."""
    url = get_settings().offer_queue_url
    sent = 0
    for trigger in found:
        if trigger.kind != "offer" or not trigger.at:
            continue
        if url is None:
            logger.warning("an offer's expiry is not scheduled: BATON_OFFER_QUEUE_URL is not set")
            return sent
        _sqs().send_message(QueueUrl=url, DelaySeconds=delay_until(trigger.at), MessageBody=json.dumps(
            {"tenant": trigger.tenant, "taskId": trigger.id, "at": trigger.at}))
        sent += 1
    return sent


def route_stream(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Route a batch of stream records together (tasks.routing.Router.handle: each task and each
    group's queue once, the tasks' writes concurrently). A failure reports the batch's first
    routable record, so the mapping retries the whole batch from it: routing decides on the state
    it reads, so what was routed already costs a read the second time."""
    router = Router(get_dynamo())
    skipped = 0
    found: dict[Trigger, None] = {}
    first: str | None = None  # the sequence number of the first record that could be read
    try:
        for record in records:
            try:
                found.update(dict.fromkeys(routing_triggers([record])))
                first = first or record["dynamodb"]["SequenceNumber"]
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                skipped += 1
                keys = (record.get("dynamodb") or {}).get("Keys") if isinstance(record, dict) else None
                logger.warning("stream record skipped: it cannot be routed", extra={
                    "reason": str(err), "keys": ascii(keys)[:512]})
        try:
            router.handle(list(found))
            schedule_offers(found)
        except RETRYABLE as err:
            logger.warning("routing failed; the stream retries it", extra={"error": type(err).__name__})
            return {"batchItemFailures": [{"itemIdentifier": first}] if first else []}
        return {"batchItemFailures": []}
    finally:
        if skipped:
            emit_count(SKIPPED_METRIC, skipped)


def expire_offers(messages: list[dict[str, Any]]) -> dict[str, Any]:
    router = Router(get_dynamo())
    failures: list[dict[str, str]] = []
    skipped = 0
    for message in messages:
        try:
            body = json.loads(message["body"])
            tenant, task_id, at = str(body["tenant"]), str(body["taskId"]), str(body["at"])
            later = delay_until(at)
        except (KeyError, TypeError, ValueError) as err:
            skipped += 1
            logger.warning("offer timer skipped: it cannot be read", extra={"reason": str(err)})
            continue
        try:
            if later > 0:  # longer than one SQS delay: wait again
                schedule_offers([Trigger(tenant, "offer", task_id, at=at)])
            else:
                router.route_task(tenant, task_id)
        except RETRYABLE as err:
            logger.warning("an expired offer could not be routed; SQS retries it",
                           extra={"error": type(err).__name__})
            failures.append({"itemIdentifier": message["messageId"]})
    if skipped:
        emit_count(SKIPPED_METRIC, skipped)
    return {"batchItemFailures": failures}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        records = event.get("Records") or []
        if records and records[0].get("eventSource") == "aws:sqs":
            return expire_offers(records)
        return route_stream(records)
    finally:
        coldstart.resume()
