"""The task event schema: one mapping from a history event to a CloudEvents 1.0 event
(docs/events.md), and their order in a batch. Which table changes are history events is the
storage side's to say (tasks.stream). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from baton.text import all_text

SPEC_VERSION = "1.0"
TYPE_PREFIX = "baton.task."
SOURCE_PREFIX = "baton/"


class Unpublishable(ValueError):
    """A history event that cannot be a CloudEvent (text that is not Unicode, a missing field)."""


def _checked(value: Any) -> Any:
    """`value`, if every string in it is valid text; Unpublishable otherwise."""
    if not all_text(value):
        raise Unpublishable("an event's text is not valid Unicode")
    return value


def cloud_event(tenant: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """A history event as a CloudEvents 1.0 event (structured JSON), as docs/events.md shows it;
    Unpublishable if it cannot be one."""
    try:
        return _checked(_cloud_event(tenant, event))  # type: ignore[no-any-return]
    except (KeyError, TypeError, ValueError, UnicodeError) as err:
        raise Unpublishable(f"not a history event ({type(err).__name__})") from None


def _cloud_event(tenant: str, event: Mapping[str, Any]) -> dict[str, Any]:
    _checked(tenant)
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
