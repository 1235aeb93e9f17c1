"""ProcessMaker activity assignees: who may work on each step of a process.

Lists are one Query on the activity's partition plus BatchGetItem for names and group
members (100 keys a call), never a call per assignee; available assignees are the tenant's
directory (Query) minus the assigned set. Filtering is on a case-folded search field, before
paging. Writes are single transactions whose conditions carry the rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baton import rules
from baton.domain import PM_ROLES, Caller
from baton.errors import BadRequest, NotFound
from baton.store import ConditionFailed, Store, search_text


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
    """Users first, then groups; by name, then id: a stable order for paging."""
    return sorted(items, key=lambda a: (a.kind != "user", a.name.casefold(), a.lastname.casefold(), a.uid))


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

    def _rows(self) -> tuple[bool, list[tuple[str, str]]]:
        """(is subprocess, assigned (kind, uid) pairs); 404 when the activity is unknown."""
        activity, rows = self.store.activity_with_assignees(self.tenant, self.project_id, self.activity_id)
        if activity is None:
            raise NotFound(f"Activity {self.activity_id} of project {self.project_id} not found")
        if activity.type == "subprocess":
            return True, []
        return False, [(r["aasType"], r["aasUid"]) for r in rows]

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
