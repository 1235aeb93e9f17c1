"""The task event schema: one mapping from a history event to a CloudEvents 1.0 event
(docs/events.md), and their order in a batch. Which table changes are history events is the
storage side's to say (tasks.stream). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

SPEC_VERSION = "1.0"
TYPE_PREFIX = "baton.task."
SOURCE_PREFIX = "baton/"


def cloud_event(tenant: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """A history event as a CloudEvents 1.0 event (structured JSON), as docs/events.md shows it."""
    data: dict[str, Any] = {"version": int(event["version"]), "from": event.get("from"), "to": event.get("to"),
                            "actor": event.get("actor"), "comment": event.get("comment"),
                            "changes": event.get("changes") or {}, "reason": event.get("reason") or "request",
                            "onBehalfOf": event.get("onBehalfOf")}
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


def in_version_order(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events in their order, except that the events of one task are put in version order
    (two history items of one transaction need not reach the stream in key order); the events
    of other tasks keep their places."""
    slots: dict[tuple[str, str], list[int]] = {}
    for i, event in enumerate(events):
        slots.setdefault((event["source"], event["subject"]), []).append(i)
    ordered = list(events)
    for positions in slots.values():
        for slot, i in zip(positions, sorted(positions, key=lambda i: events[i]["data"]["version"]), strict=True):
            ordered[slot] = events[i]
    return ordered
