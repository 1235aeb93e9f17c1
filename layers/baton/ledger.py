"""The audit ledger's rules, as pure functions: what a change changed (`changes`), the hash chain
of a task's history (`event_hash`, `chain`, `verify`), and the form an event is served (and
hashed) in (`served`). docs/decisions.md "Audit ledger and cases" says why each is so.

The hash is the contract's, so that anyone can check a history with ten lines of their own code:

    prev = ""
    for event in history:                      # oldest first, as GET .../history serves it
        body = {k: v for k, v in event.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        assert event["hash"] == hashlib.sha256((prev + text).encode("utf-8")).hexdigest()
        prev = event["hash"]

(events written before the ledger existed carry no hash: the chain starts at the first one that
does). No I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The fields an event's `changes` covers, as the contract lists them. `lease` is the task's
# `leaseExpiresAt` (when the current claim's lease ends); the others are the task's own fields
# (`owner`, `separation`, `escalations` appear once the features that add them do); a completion's
# `outcome` and `variables` too (issue 28: how it ended is in its event and its CloudEvent;
# `variables` as its canonical JSON text, which any JSON fits, floats included).
AUDITED: tuple[str, ...] = ("assignee", "candidateUsers", "candidateGroups", "priority", "dueDate", "policy",
                            "status", "owner", "separation", "escalations", "lease", "outcome", "variables")
_FIELD_OF = {"lease": "leaseExpiresAt"}

# The keys every served event has, null or not; any other key (`candidates`, and whatever a later
# feature adds) is served only when it has a value, so that an event's served form, and so its
# hash, never changes when the model gains a field.
CORE: frozenset[str] = frozenset({"id", "taskId", "version", "at", "actor", "action", "from", "to", "comment",
                                  "changes", "reason", "onBehalfOf", "hash"})
GENESIS = ""  # the previous hash of a task's first hashed event
# The `kind` of a ledger event that changed the directory (ProcessMaker's activity assignees)
# rather than a task; task events have no `kind`.
DIRECTORY_KIND = "directory"
# The keys every served directory event has (it names an activity, not a task).
DIRECTORY_CORE: frozenset[str] = (CORE - {"taskId"}) | {"kind", "projectId", "activityId"}


def _value(task: Mapping[str, Any] | None, name: str) -> Any:
    if task is None:
        return None
    value = task.get(_FIELD_OF.get(name, name))
    if value is None:
        return None
    dump = getattr(value, "model_dump", None)  # a nested model (the policy)
    if name == "variables" and value is not None:  # any JSON (floats too): as its canonical text
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return dump() if dump is not None else value


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """`{field: {"from", "to"}}` for every audited field whose value differs between the task
    before and after the change (`before` None: a creation, which sets every field it gives a
    value). Lists compare in order; an empty list and an absent field are the same."""
    out: dict[str, dict[str, Any]] = {}
    for name in AUDITED:
        old, new = _value(before, name), _value(after, name)
        if _empty(old) and _empty(new):
            continue
        if old != new:
            out[name] = {"from": old, "to": new}
    return out


def served(event: Mapping[str, Any]) -> dict[str, Any]:
    """An event as the history route (and the tenant audit) serve it: the core keys always (null
    when absent: storage drops nulls), every other key only when it is not null."""
    core = DIRECTORY_CORE if event.get("kind") == DIRECTORY_KIND else CORE
    out = {k: v for k, v in event.items() if k in core or v is not None}
    out.update((k, None) for k in sorted(core - out.keys()))
    return out


# json.dumps(body, sort_keys=True, separators=(",", ":")), its encoder made once
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical(event: Mapping[str, Any]) -> str:
    """The canonical JSON of an event (served form, without `hash`): sorted keys, no spaces."""
    body = {k: v for k, v in served(event).items() if k != "hash"}
    return _CANONICAL.encode(body)


def event_hash(previous: str | None, event: Mapping[str, Any]) -> str:
    """The contract's hash: lowercase hex SHA-256 of the UTF-8 bytes of `previous + canonical`."""
    return hashlib.sha256(((previous or GENESIS) + canonical(event)).encode("utf-8")).hexdigest()


def chain(previous: str | None, events: Iterable[dict[str, Any]]) -> str | None:
    """Hash `events` (served form, in version order) in place, each after the one before,
    starting from `previous` (the task's last hash; None or "" for a task with none yet).
    Returns the last hash (`previous` when there are no events)."""
    head = previous
    for event in events:
        event["hash"] = head = event_hash(head, event)
    return head


@dataclass(frozen=True)
class Verification:
    """The result of checking a history: `verified`, `brokenAt` (the version of the first event
    whose hash does not follow, or of the first missing one; None when verified), how many events
    were checked and the version the chain starts at (None: no hashed event)."""

    verified: bool
    brokenAt: int | None
    checked: int
    chainStartsAt: int | None

    def public(self) -> dict[str, Any]:
        return {"verified": self.verified, "brokenAt": self.brokenAt, "checked": self.checked,
                "chainStartsAt": self.chainStartsAt}


def verify(events: Iterable[Mapping[str, Any]], head: tuple[int, str | None] | None = None) -> Verification:
    """Recompute the chain over a whole history (served form, oldest first). Events before the
    first hashed one (written before the ledger existed) are not part of it; after it, every
    event must carry the hash that follows from the one before, and versions must follow each
    other without a gap. `head` (version, hash): what the task item says the chain's hash is at
    that version (a history cut short after it, or a last event edited with its hash recomputed,
    then shows at the version after the last event that still agrees)."""
    previous: str | None = None  # None: the chain has not started
    expected_version: int | None = None
    checked = 0
    start: int | None = None
    last_version = 0
    hash_at: dict[int, str] = {}
    for event in events:
        version = int(event.get("version") or 0)
        if expected_version is not None and version != expected_version:
            return Verification(False, expected_version, checked, start)
        expected_version = version + 1
        last_version = version
        stored = event.get("hash")
        if previous is None and not stored:
            continue  # before the chain: written before the ledger
        checked += 1
        if previous is None:
            start, previous = version, GENESIS
        if not isinstance(stored, str) or stored != event_hash(previous, event):
            return Verification(False, version, checked, start)
        previous = stored
        hash_at[version] = stored
    if head is not None and head[1] and start is not None:
        at, value = head
        if hash_at.get(at) != value:
            return Verification(False, min(at, last_version + 1), checked, start)
    return Verification(True, None, checked, start)
