"""Which table changes are task events: the storage side of tasks.events, read from the
table's stream (docs/events.md).

Events are derived from the table, never from memory: every history event is an item written
atomically with its change, so the table's stream carries each of them exactly once, as

- the INSERT of a history item, except one written out later from a task's `lastEvent` (it
  carries `deferred`: its event was published when the claim was made), and
- the change of a task item that gained a `lastEvent` (a claim whose event the task item holds
  until the next change writes it out: a bulk request's claim, the retired one-write claim's).

`PIPE_FILTERS` says the same in EventBridge's pattern language (the Pipe drops everything else
before it invokes anything); `history_event_of` is the authority and runs after it, in the Pipe's
enrichment function and in `baton serve`'s local feed alike. Pure functions, no I/O."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from baton.attrs import from_attr
from baton.storage.keys import HISTORY, PERSON_SK, TASK_SK, USERS, Keys
from baton.table import PK, SK
from baton.tasks.events import Unpublishable, cloud_event, in_version_order

log = logging.getLogger("baton.tasks.stream")

# The CloudWatch metric counting stream records skipped because they cannot become events
# (the Pipe's enrichment emits it; the events stack alarms on it: infra/events.py).
SKIPPED_METRIC = "SkippedStreamRecords"

# Set on a history item written out from a task's `lastEvent`: its event is already published.
DEFERRED = "deferred"

# EventBridge Pipes filter criteria on DynamoDB stream records: either pattern lets a record in.
PIPE_FILTERS: list[dict[str, Any]] = [
    {"eventName": ["INSERT"],
     "dynamodb": {"Keys": {SK: {"S": [{"prefix": HISTORY}]}},
                  "NewImage": {DEFERRED: {"BOOL": [{"exists": False}]}}}},
    {"eventName": ["INSERT", "MODIFY"],
     "dynamodb": {"Keys": {SK: {"S": [TASK_SK]}},
                  "NewImage": {"lastEvent": {"M": {"id": {"S": [{"exists": True}]}}}},
                  "OldImage": {"lastEvent": {"M": {"id": {"S": [{"exists": False}]}}}}}},
]

tenant_of = Keys.tenant_of_task


def _plain(image: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in image.items()}


def history_event_of(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The (tenant, history event) a DynamoDB stream record publishes, or None."""
    change = record.get("dynamodb") or {}
    keys, new, old = change.get("Keys") or {}, change.get("NewImage"), change.get("OldImage") or {}
    pk, sk = keys.get(PK, {}).get("S"), keys.get(SK, {}).get("S")
    tenant = tenant_of(pk) if isinstance(pk, str) else None
    if tenant is None or not isinstance(sk, str) or new is None:
        return None
    name = record.get("eventName")
    if sk.startswith(HISTORY) and name == "INSERT" and DEFERRED not in new:
        return tenant, _plain(new)
    if sk == TASK_SK and name in ("INSERT", "MODIFY") and "lastEvent" in new and "lastEvent" not in old:
        task = _plain(new)
        return tenant, {**task["lastEvent"], "taskId": task["id"], "version": task["version"]}
    return None


def cloud_events(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The CloudEvents of a batch of stream records, in stream order, except that the events of
    one task within the batch are put in version order (tasks.events.in_version_order)."""
    return publishable_events(records)[0]


def publishable_events(records: Iterable[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """`cloud_events`, and how many records were skipped: a record that cannot be turned into an
    event (text that is not Unicode, a history item missing a field) is skipped and counted,
    never fatal, so that one poison record cannot stop the events of every tenant. The API refuses
    such text where it enters (baton.edge.http), so a skip is a record written past it."""
    events: list[dict[str, Any]] = []
    skipped = 0
    for record in records:
        try:
            found = history_event_of(record)
            if found is not None:
                events.append(cloud_event(*found))
        except (Unpublishable, KeyError, TypeError, ValueError, AttributeError) as err:
            skipped += 1
            keys = (record.get("dynamodb") or {}).get("Keys") if isinstance(record, Mapping) else None
            log.warning("stream record skipped: it cannot become an event", extra={
                "reason": str(err), "keys": ascii(keys)[:512]})
    return in_version_order(events), skipped


# Lambda event filters of the stream-fed router function (infra/router.py): the records that may
# need routing, a superset of what `routing_triggers` keeps (which decides): a task item open and
# held by nobody, a user's load item changed, a user item whose presence is `available` after
# having been set, a user item whose absence ended (by request or at its `until`: tasks.sweeper).
# (EventBridge's `exists` matches leaves only, hence the attribute types.)
ROUTER_FILTERS: list[dict[str, Any]] = [
    {"eventName": ["INSERT", "MODIFY"],
     "dynamodb": {"Keys": {SK: {"S": [TASK_SK]}},
                  "NewImage": {"status": {"S": ["open"]}, "assignee": {"S": [{"exists": False}]}}}},
    {"eventName": ["MODIFY"], "dynamodb": {"Keys": {SK: {"S": [PERSON_SK]}}}},
    {"eventName": ["MODIFY"],
     "dynamodb": {"NewImage": {"userId": {"S": [{"exists": True}]}, "presence": {"S": ["available"]}},
                  "OldImage": {"presence": {"S": [{"exists": True}]}}}},
    {"eventName": ["MODIFY"],
     "dynamodb": {"NewImage": {"userId": {"S": [{"exists": True}]},
                               "absence": {"M": {"until": {"S": [{"exists": False}]}}}},
                  "OldImage": {"absence": {"M": {"until": {"S": [{"exists": True}]}}}}}},
]


class Trigger(NamedTuple):
    tenant: str
    kind: str  # "task" (free in a group's queue), "user" (may take work again), "offer" (expires `at`)
    id: str
    groups: tuple[str, ...] = ()
    at: str | None = None


def routing_triggers(records: Iterable[Mapping[str, Any]]) -> list[Trigger]:
    """What the records may need routed (tasks.routing), each once, in stream order."""
    out: dict[Trigger, None] = {}
    for record in records:
        change = record.get("dynamodb") or {}
        keys = change.get("Keys") or {}
        pk, sk = keys.get(PK, {}).get("S"), keys.get(SK, {}).get("S")
        if not isinstance(pk, str) or not isinstance(sk, str) or record.get("eventName") == "REMOVE":
            continue
        if sk not in (TASK_SK, PERSON_SK) and not sk.startswith(USERS):
            continue  # history, queue entries, groups...: never read (an image need not even decode)
        new, old = _plain(change.get("NewImage") or {}), _plain(change.get("OldImage") or {})
        if sk == TASK_SK:
            tenant = Keys.tenant_of_task(pk)
            free = (new.get("status") == "open" and new.get("type", "manual") == "manual"
                    and new.get("assignee") is None and new.get("candidateGroups"))
            if tenant and free and new.get("offeredTo") is None and (
                    not old or old.get("assignee") is not None or old.get("status") != "open"
                    or old.get("offeredTo") is not None or old.get("candidateGroups") != new.get("candidateGroups")):
                out[Trigger(tenant, "task", str(new["id"]))] = None
            if tenant and free and new.get("offeredTo") and new.get("offerExpiresAt"):
                out[Trigger(tenant, "offer", str(new["id"]), at=str(new["offerExpiresAt"]))] = None
        elif sk == PERSON_SK and "userId" in new:  # a load item: a slot freed, or the capacity changed
            tenant = Keys.tenant_of_person(pk)
            room = int(new.get("load", 0)) < int(old.get("load", 0))
            more = new.get("capacity") != old.get("capacity") and bool(old)
            if tenant and (room or more):
                out[Trigger(tenant, "user", str(new["userId"]))] = None
        elif "userId" in new and new.get("groups"):  # a user item: presence back to available, absence ended
            tenant = Keys.tenant_of_directory(pk)
            back = new.get("presence", "available") == "available" and old.get("presence", "available") != "available"
            back = back or (old.get("absence") is not None and new.get("absence") is None)
            if tenant and back:
                out[Trigger(tenant, "user", str(new["userId"]), tuple(sorted(new["groups"])))] = None
    return list(out)
