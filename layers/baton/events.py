"""Task change events: which table changes are history events, and the one mapping from a
history event to a CloudEvents 1.0 event (docs/events.md).

Events are derived from the table, never from memory: every history event is an item written
atomically with its change, so the table's stream carries each of them exactly once, as

- the INSERT of a history item `H#{version}`, except one written out later from a task's
  `lastEvent` (it carries `deferred`: its event was published when the claim was made), and
- the change of a task item that gained a `lastEvent` (the one-request direct claim, whose
  event lives in the task item until the next change writes it out).

`PIPE_FILTERS` says the same in EventBridge's pattern language (the Pipe drops everything else
before it invokes anything); `history_event_of` is the authority and runs after it, in the Pipe's
enrichment function and in `baton serve`'s local feed alike. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, unquote

from baton.attrs import from_attr

SPEC_VERSION = "1.0"
TYPE_PREFIX = "baton.task."
SOURCE_PREFIX = "baton/"
# Set on a history item written out from a task's `lastEvent`: its event is already published.
DEFERRED = "deferred"
HISTORY_PREFIX = "H#"
TASK_SK = "TASK"

# EventBridge Pipes filter criteria on DynamoDB stream records: either pattern lets a record in.
PIPE_FILTERS: list[dict[str, Any]] = [
    {"eventName": ["INSERT"],
     "dynamodb": {"Keys": {"sk": {"S": [{"prefix": HISTORY_PREFIX}]}},
                  "NewImage": {DEFERRED: {"BOOL": [{"exists": False}]}}}},
    {"eventName": ["INSERT", "MODIFY"],
     "dynamodb": {"Keys": {"sk": {"S": [TASK_SK]}},
                  "NewImage": {"lastEvent": {"M": {"id": {"S": [{"exists": True}]}}}},
                  "OldImage": {"lastEvent": {"M": {"id": {"S": [{"exists": False}]}}}}}},
]


def _unescape(part: str) -> str:
    return part.replace("%23", "#").replace("%25", "%")


def tenant_of(pk: str) -> str | None:
    """The tenant of a task partition key `T#{tenant}#TASK#{taskId}` (parts escaped), else None."""
    parts = pk.split("#")
    if len(parts) != 4 or parts[0] != "T" or parts[2] != "TASK":
        return None
    return _unescape(parts[1])


def _plain(image: Mapping[str, Any]) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in image.items()}


def history_event_of(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The (tenant, history event) a DynamoDB stream record publishes, or None."""
    change = record.get("dynamodb") or {}
    keys, new, old = change.get("Keys") or {}, change.get("NewImage"), change.get("OldImage") or {}
    pk, sk = keys.get("pk", {}).get("S"), keys.get("sk", {}).get("S")
    tenant = tenant_of(pk) if isinstance(pk, str) else None
    if tenant is None or not isinstance(sk, str) or new is None:
        return None
    name = record.get("eventName")
    if sk.startswith(HISTORY_PREFIX) and name == "INSERT" and DEFERRED not in new:
        return tenant, _plain(new)
    if sk == TASK_SK and name in ("INSERT", "MODIFY") and "lastEvent" in new and "lastEvent" not in old:
        task = _plain(new)
        return tenant, {**task["lastEvent"], "taskId": task["id"], "version": task["version"]}
    return None


def cloud_event(tenant: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """A history event as a CloudEvents 1.0 event (structured JSON), as docs/events.md shows it."""
    data: dict[str, Any] = {"version": int(event["version"]), "from": event.get("from"), "to": event.get("to"),
                            "actor": event.get("actor"), "comment": event.get("comment")}
    if event.get("candidates"):
        data["candidates"] = sorted(event["candidates"])
    return {
        "specversion": SPEC_VERSION,
        "id": event["id"],
        "source": SOURCE_PREFIX + quote(tenant, safe=""),
        "type": TYPE_PREFIX + str(event["action"]),
        "subject": event["taskId"],
        "time": event["at"],
        "datacontenttype": "application/json",
        "data": data,
    }


def tenant_of_event(event: Mapping[str, Any]) -> str:
    """The tenant a CloudEvent of `cloud_event` belongs to."""
    return unquote(str(event["source"]).removeprefix(SOURCE_PREFIX))


def cloud_events(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The CloudEvents of a batch of stream records, in stream order, except that the events of
    one task within the batch are put in version order (two history items of one transaction
    need not reach the stream in key order); the events of other tasks keep their places."""
    found = [found for found in map(history_event_of, records) if found is not None]
    events = [cloud_event(tenant, event) for tenant, event in found]
    slots: dict[tuple[str, str], list[int]] = {}
    for i, event in enumerate(events):
        slots.setdefault((event["source"], event["subject"]), []).append(i)
    ordered = list(events)
    for positions in slots.values():
        for slot, i in zip(positions, sorted(positions, key=lambda i: events[i]["data"]["version"]), strict=True):
            ordered[slot] = events[i]
    return ordered
