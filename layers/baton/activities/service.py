"""ProcessMaker activity assignees: who may work on each step of a process, listed and changed as
ProcessMaker's server does (../shared/spec/processmaker-source-behaviour.md).

Lists are groups by title, then users by first name (ties by id); inactive users are never
listed. The assignment rows are stored in exactly that order (their sort key is the entry's place,
`activities.order`, kept right by every rename), so an unfiltered page reads what it shows: one
Query up to the page's end (the activity item first, with the counts kept by the writes) and one
BatchGetItem for the names. A name filter, `assignee/all` (groups expanded) and the available
assignees (the directory minus the assigned) read their whole set: one Query plus BatchGetItem per
100 keys, never a call per assignee. Writes are single transactions whose conditions carry the
rules; a write that raced is tried again on what is there now. Activities themselves are written
here too (`put_activity`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from baton.activities.domain import KINDS, Activity, Assignee, AssignmentRaced, Entry, Page
from baton.activities.repository import ActivityRepository, in_list_order
from baton.domain import PM_ROLES, WRITE_ROLES, Caller, require_role
from baton.errors import BadRequest, Conflict, NotFound
from baton.storage.dynamo import Dynamo, TransactionConflict

MAX_ATTEMPTS = 8
INTEGER = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")


def display_name(entry: Entry) -> str:
    n = len(entry.members)
    return f"{entry.name} ({n} {'User' if n == 1 else 'Users'})"


def from_entry(entry: Entry) -> Assignee:
    if entry.kind == "group":
        title = display_name(entry)
        return Assignee(entry.uid, "group", title, "", title, (entry.name.casefold(),))
    first, last, user = entry.name, entry.lastname, entry.username
    return Assignee(entry.uid, "user", first, last, user, (user.casefold(), first.casefold(), last.casefold()))


@dataclass(frozen=True)
class Query:
    """A list request: `filter` > `lfilter` > `rfilter` (substring, prefix, suffix of a name),
    `type` (`user` or `group`; anything else lists nothing), `start`, `limit` (None: no limit)."""

    filter: str | None = None
    lfilter: str | None = None
    rfilter: str | None = None
    type: str | None = None
    start: int = 0
    limit: int | None = None

    @property
    def matcher(self) -> Callable[[str], bool] | None:
        if self.filter:
            needle = self.filter.casefold()
            return lambda field: needle in field
        if self.lfilter:
            prefix = self.lfilter.casefold()
            return lambda field: field.startswith(prefix)
        if self.rfilter:
            suffix = self.rfilter.casefold()
            return lambda field: field.endswith(suffix)
        return None


def paging_value(name: str, raw: str | None) -> int | None:
    """`start`/`limit` as ProcessMaker's server checks them: an integer literal, not negative."""
    if raw is None:
        return None
    if not INTEGER.match(raw) or int(raw) < 0:
        raise BadRequest(f'Invalid value for "{name}". Expecting positive integer value.')
    return int(raw)


def page(items: list[Assignee], q: Query) -> Page:
    """Filter and slice a list already in order."""
    match = q.matcher
    kept = [a for a in items if (q.type is None or a.kind == q.type) and (match is None or any(
        match(f) for f in a.fields))]
    end = None if q.limit is None else q.start + q.limit
    window = [] if q.limit == 0 else kept[q.start:end]
    return Page(0 if q.limit == 0 else len(kept), q.start, q.limit or 0, q.filter or "", window)


class AssigneeService:
    def __init__(self, db: Dynamo, caller: Caller, workspace: str, project_id: str, activity_id: str) -> None:
        if workspace != caller.tenant:
            raise NotFound(f"Workspace {workspace} not found")
        self.store, self.caller = ActivityRepository(db), caller
        self.tenant, self.project_id, self.activity_id = caller.tenant, project_id, activity_id

    # ---- errors as the server words them ------------------------------------------------------
    def _unknown_for_lists(self) -> BadRequest:
        if not self.store.project_exists(self.tenant, self.project_id):
            return BadRequest(f"The project with prj_uid: {self.project_id} does not exist.")
        return BadRequest(f"The activity with act_uid: {self.activity_id} does not exist.")

    def _unknown(self) -> BadRequest:
        return BadRequest(f"The activity with act_uid: '{self.activity_id}', does not exist.")

    # ---- reads -------------------------------------------------------------------------------
    def _rows(self, for_lists: bool, limit: int | None = None, kind: str | None = None
              ) -> tuple[int, list[tuple[str, str]]]:
        """(count, the first `limit` or all listed (kind, uid) pairs in order); a subprocess has none."""
        activity, count, rows = self.store.activity_with_assignees(self.tenant, self.project_id, self.activity_id,
                                                                   limit, kind)
        if activity is None:
            raise self._unknown_for_lists() if for_lists else self._unknown()
        if activity.type == "subprocess":
            return 0, []
        return count, rows

    def _entries(self, pairs: list[tuple[str, str]]) -> list[Entry]:
        """The directory entries of these pairs, in the pairs' order (gone ones dropped)."""
        if not pairs:
            return []
        found = {(e.kind, e.uid): e for e in self.store.entries(self.tenant, pairs)}
        return [found[p] for p in pairs if p in found]

    def listing(self, source: str, q: Query) -> Page:
        """A page of `assigned`, `available` or `all` (see the module docstring for the cost)."""
        if source == "assigned" and q.matcher is None and q.type in (None, *KINDS) and q.limit:
            total, pairs = self._rows(True, q.start + q.limit, q.type)
            window = pairs[q.start:q.start + q.limit]
            entries = [from_entry(e) for e in self._entries(window)]
            return Page(total, q.start, q.limit, q.filter or "", entries)
        if q.limit == 0 or q.type not in (None, *KINDS):
            if source == "all":
                self._rows(False, 0)
            elif source == "assigned":
                self._rows(True, 0)
            else:
                self._activity(for_lists=True)
            return page([], q)
        items = {"assigned": self.assigned, "available": self.available, "all": self.all_users}[source]()
        return page(items, q)

    def assigned(self) -> list[Assignee]:
        _, pairs = self._rows(True)
        return [from_entry(e) for e in self._entries(pairs) if e.listed]

    def _activity(self, for_lists: bool) -> Activity:
        activity, _, _ = self.store.activity_with_assignees(self.tenant, self.project_id, self.activity_id, 0)
        if activity is None:
            raise self._unknown_for_lists() if for_lists else self._unknown()
        return activity

    def available(self) -> list[Assignee]:
        """Groups not assigned, by title, then active users not directly assigned, by first name
        (members of an assigned group stay available). A subprocess offers everyone."""
        activity = self._activity(for_lists=True)
        return [from_entry(e) for e in self.store.directory(self.tenant, self.project_id, self.activity_id)
                if e.listed and (activity.type == "subprocess" or not e.assigned)]

    def one(self, uid: str) -> Assignee:
        act, user, group = self.store.activity_and_entries(self.tenant, self.project_id, self.activity_id, uid)
        if act is None:
            raise self._unknown()
        for entry in (group, user):
            if entry is not None and entry.assigned and entry.listed:
                found = from_entry(entry)
                # the server's single-assignee answer leaves a group's username empty
                return Assignee(found.uid, found.kind, found.name, found.lastname,
                                "" if found.kind == "group" else found.username, found.fields)
        raise BadRequest(f"Record not found for id: {uid}")

    def all_users(self) -> list[Assignee]:
        """Users only: the members of the assigned groups (groups by title, members by first name),
        then the directly assigned users, each once (its first place kept); inactive ones left out."""
        _, pairs = self._rows(False)
        entries = self._entries(pairs)
        direct = [e for e in entries if e.kind == "user"]
        groups = [e for e in entries if e.kind == "group"]
        members = list(dict.fromkeys(m for g in groups for m in g.members))
        users = {e.uid: e for e in self._entries([("user", m) for m in members])}
        ordered: list[Entry] = []
        for g in groups:
            ordered += in_list_order(users[m] for m in g.members if m in users)
        ordered += direct
        seen: set[str] = set()
        out = []
        for e in ordered:
            if e.uid not in seen and e.listed:
                seen.add(e.uid)
                out.append(from_entry(e))
        return out

    # ---- writes ------------------------------------------------------------------------------
    def _change(self, uid: str, attempt: Callable[[Activity, Entry | None, Entry | None], None]) -> None:
        """Read the activity and the directory entries of `uid`, decide, write; again if it raced."""
        for _ in range(MAX_ATTEMPTS):
            act, user, group = self.store.activity_and_entries(self.tenant, self.project_id, self.activity_id, uid)
            if act is None:
                raise self._unknown()
            try:
                attempt(act, user, group)
                return
            except (AssignmentRaced, TransactionConflict):
                continue  # something changed in between: decide again on what is there now
        raise Conflict(f"The assignees of {self.activity_id} are changing too fast; try again")

    def add(self, uid: str | None, kind: str | None) -> None:
        require_role(self.caller, PM_ROLES)
        if not uid:
            raise BadRequest("`aas_uid` is required.")
        if kind not in KINDS:
            raise BadRequest("Invalid value specified for `aas_type`. Expected one of (user,group).")

        def attempt(act: Activity, user: Entry | None, group: Entry | None) -> None:
            if any(e is not None and e.assigned for e in (user, group)):
                raise BadRequest(f"This ID: {uid} is already assigned to task: {self.activity_id}")
            entry = user if kind == "user" else group
            if entry is None:
                raise BadRequest(f"This id: {uid} does not correspond to a registered {kind}")
            if act.type == "subprocess":
                raise BadRequest(f"Users and groups cannot be assigned to the subprocess: {self.activity_id}")
            self.store.add_assignee(self.tenant, act, entry, self.caller.user_id)
        self._change(uid, attempt)

    def remove(self, uid: str) -> None:
        require_role(self.caller, PM_ROLES)

        def attempt(act: Activity, user: Entry | None, group: Entry | None) -> None:
            entry = next((e for e in (user, group) if e is not None and e.assigned), None)
            if entry is None:
                raise BadRequest("This row does not exist!")
            self.store.remove_assignee(self.tenant, act, entry, self.caller.user_id)
        self._change(uid, attempt)


class ActivityService:
    """Activities themselves (the native directory routes)."""

    def __init__(self, db: Dynamo, caller: Caller) -> None:
        self.activities = ActivityRepository(db)
        self.caller = caller

    def put_activity(self, activity: Activity) -> bool:
        require_role(self.caller, WRITE_ROLES)
        return self.activities.put_activity(self.caller.tenant, activity)
