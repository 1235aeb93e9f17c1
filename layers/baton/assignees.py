"""ProcessMaker activity assignees: who may work on each step of a process.

Every list is in `aas_uid` order, the order of the assignment rows' sort keys. A page of
assignees without a filter reads what it shows: one Query up to the page's end (the activity
item first, with the assignee count kept by the writes) and one BatchGetItem for the names.
A filter matches names, which live in the directory, so a filtered list, the available
assignees (the tenant's directory minus the assigned set) and `assignee/all` (groups expanded)
read their whole set: one Query plus BatchGetItem per 100 keys, never a call per assignee.
Writes are single transactions whose conditions carry the rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baton import rules
from baton.domain import PM_ROLES, Caller
from baton.errors import BadRequest, NotFound
from baton.store import ConditionFailed, Store, assignee_order, search_text


@dataclass(frozen=True)
class Assignee:
    uid: str
    kind: str  # "user" or "group"
    name: str
    lastname: str
    username: str
    search: str

    def public(self) -> dict[str, str]:
        return {"aas_uid": self.uid, "aas_name": self.name, "aas_lastname": self.lastname,
                "aas_username": self.username, "aas_type": self.kind}


def from_entry(entry: dict[str, Any]) -> Assignee:
    if entry["sk"].startswith("USER#"):
        return Assignee(entry["userId"], "user", entry.get("firstname", ""), entry.get("lastname", ""),
                        entry.get("username", ""), entry.get("searchText", ""))
    display = f"{entry['name']} ({len(entry.get('members', []))} Users)"
    return Assignee(entry["groupId"], "group", display, "", display, search_text(entry["name"]))


def order(items: list[Assignee]) -> list[Assignee]:
    """`aas_uid` order, as the assignment rows are stored: a stable order for paging."""
    return sorted(items, key=lambda a: assignee_order(a.uid))


@dataclass(frozen=True)
class Page:
    total: int
    start: int
    limit: int
    filter: str
    data: list[dict[str, str]]

    def public(self) -> dict[str, Any]:
        return {"total": self.total, "start": self.start, "limit": self.limit, "filter": self.filter,
                "data": self.data}


def page(items: list[Assignee], text: str | None, start: int, limit: int) -> Page:
    """Filter (case-insensitive, any script), then slice; limit 0 means no limit."""
    needle = (text or "").casefold()
    kept = [a for a in order(items) if needle in a.search] if needle else order(items)
    window = kept[start:start + limit] if limit else kept[start:]
    return Page(len(kept), start, limit, text or "", [a.public() for a in window])


class AssigneeService:
    def __init__(self, store: Store, caller: Caller, workspace: str, project_id: str, activity_id: str) -> None:
        if workspace != caller.tenant:
            raise NotFound(f"Workspace {workspace} not found")
        self.store, self.caller = store, caller
        self.tenant, self.project_id, self.activity_id = caller.tenant, project_id, activity_id

    def _rows(self, limit: int | None = None) -> tuple[int, list[tuple[str, str]]]:
        """(assignee count, the first `limit` or all assigned (kind, uid) pairs in order);
        404 when the activity is unknown; a subprocess has none."""
        activity, count, rows = self.store.activity_with_assignees(self.tenant, self.project_id, self.activity_id,
                                                                   limit)
        if activity is None:
            raise NotFound(f"Activity {self.activity_id} of project {self.project_id} not found")
        if activity.type == "subprocess":
            return 0, []
        return count, [(r["aasType"], r["aasUid"]) for r in rows]

    def listing(self, source: str, text: str | None, start: int, limit: int) -> Page:
        """A page of `assigned`, `available` or `all` (see the module docstring for the cost)."""
        if source == "assigned" and limit and not text:
            total, pairs = self._rows(start + limit)
            window = pairs[start:start + limit]
            found = {a.uid: a for a in map(from_entry, self.store.directory_entries(self.tenant, window))} \
                if window else {}
            return Page(total, start, limit, "", [found[uid].public() for _, uid in window if uid in found])
        items = {"assigned": self.assigned, "available": self.available, "all": self.all_users}[source]()
        return page(items, text, start, limit)

    def assigned(self) -> list[Assignee]:
        _, pairs = self._rows()
        if not pairs:
            return []
        # entries that left the directory are not listed (no dangling assignees)
        return [from_entry(e) for e in self.store.directory_entries(self.tenant, pairs)]

    def available(self) -> list[Assignee]:
        _, pairs = self._rows()
        taken = {uid for _, uid in pairs}
        entries = self.store.directory_entries(self.tenant)
        return [a for a in map(from_entry, entries) if (a.uid not in taken)]

    def one(self, uid: str) -> Assignee:
        _, pairs = self._rows()
        row = [(kind, u) for kind, u in pairs if u == uid]
        entries = self.store.directory_entries(self.tenant, row) if row else []
        if not entries:
            raise BadRequest(f"Record not found for id: {uid}")
        return from_entry(entries[0])

    def all_users(self) -> list[Assignee]:
        """Every user assigned directly or through a group, once each."""
        _, pairs = self._rows()
        if not pairs:
            return []
        direct = self.store.directory_entries(self.tenant, pairs)
        users = {e["userId"]: e for e in direct if "userId" in e}
        members = {m for e in direct if "groupId" in e for m in e.get("members", [])} - set(users)
        if members:
            for e in self.store.directory_entries(self.tenant, [("user", m) for m in members]):
                users[e["userId"]] = e
        return [from_entry(e) for e in users.values()]

    def add(self, uid: str, kind: str) -> None:
        rules.require_role(self.caller, PM_ROLES)
        try:
            self.store.add_assignee(self.tenant, self.project_id, self.activity_id, uid, kind)
        except ConditionFailed as failed:
            if failed.index == 0:
                if failed.item is None:
                    raise NotFound(f"Activity {self.activity_id} of project {self.project_id} not found") from None
                raise BadRequest(f"Users and groups cannot be assigned to the subprocess: {self.activity_id}") \
                    from None
            if failed.index == 1:
                raise BadRequest(f"Record not found for id: {uid}") from None
            raise BadRequest(f"This ID: {uid} is already assigned to task: {self.activity_id}") from None

    def remove(self, uid: str) -> None:
        rules.require_role(self.caller, PM_ROLES)
        try:
            self.store.remove_assignee(self.tenant, self.project_id, self.activity_id, uid)
        except ConditionFailed as failed:
            if failed.index == 0:
                raise NotFound(f"Activity {self.activity_id} of project {self.project_id} not found") from None
            raise BadRequest("This row does not exist!") from None
