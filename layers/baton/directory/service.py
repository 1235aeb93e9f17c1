"""Directory writes and reads: users and groups, over the directory repository."""

from __future__ import annotations

from baton import clock
from baton.directory.absence import Absence, refuses_cycle
from baton.directory.domain import AbsenceChanged, Group, GroupChanged, Presence, UnknownMember, User
from baton.directory.repository import DirectoryRepository
from baton.domain import WRITE_ROLES, Caller, require_role
from baton.errors import BadRequest, Conflict, Forbidden, NotFound
from baton.storage.dynamo import Dynamo, TransactionConflict

MAX_ATTEMPTS = 8


class DirectoryService:
    def __init__(self, db: Dynamo, caller: Caller) -> None:
        self.directory = DirectoryRepository(db)
        self.caller = caller

    def put_user(self, user: User) -> tuple[bool, User]:
        require_role(self.caller, WRITE_ROLES)
        return self.directory.put_user(self.caller.tenant, user)

    def set_presence(self, user_id: str, presence: Presence) -> User:
        """The user itself, or admin/apiwrite, sets a user's presence."""
        require_role(self.caller)
        if user_id != self.caller.user_id and not self.caller.has_any(WRITE_ROLES):
            raise Forbidden(f"User {self.caller.username} may set only its own presence", reason="accessDenied")
        user = self.directory.set_presence(self.caller.tenant, user_id, presence, clock.stamp())
        if user is None:
            raise NotFound(f"User {user_id} not found", reason="userNotFound")
        return user

    def set_absence(self, user_id: str, absence: Absence | None) -> User:
        """The user itself, or admin, sets (None: ends) a user's absence. The delegate must be a
        user of the tenant, and the delegation must not close a cycle (409), checked on the
        chain as read and pinned by the write (the repository's `set_absence`)."""
        require_role(self.caller)
        if user_id != self.caller.user_id and not self.caller.is_admin:
            raise Forbidden(f"User {self.caller.username} may set only its own absence", reason="accessDenied")
        if absence is not None and absence.until <= absence.start:
            raise BadRequest("An absence's `until` must be after its `from`", reason="invalidRequest")
        delegate = absence.delegateTo if absence is not None else None
        for _ in range(MAX_ATTEMPTS):
            seen, why = self._chain(user_id, delegate)
            if why is not None:
                raise Conflict(why, reason="delegationCycle")
            try:
                user = self.directory.set_absence(self.caller.tenant, user_id, absence, seen, self.caller.user_id)
            except AbsenceChanged:
                continue
            if user is None:
                raise NotFound(f"User {user_id} not found", reason="userNotFound")
            return user
        raise Conflict(f"The absences of {user_id}'s delegates are changing too fast; try again", reason="busy")

    def _chain(self, user_id: str, delegate: str | None) -> tuple[dict[str, Absence | None], str | None]:
        """The absences along `user_id` → `delegate` → ... as read now (one read per hop), and why
        that delegation is refused (a cycle), if it is."""
        seen: dict[str, Absence | None] = {}

        def lookup(user: str) -> Absence | None:
            if user not in seen:
                found = self.directory.users(self.caller.tenant, [user]).get(user)
                if found is None:
                    error = NotFound if user == user_id else BadRequest
                    raise error(f"User {user} not found", reason="userNotFound")
                seen[user] = found.absence
            return seen[user]
        lookup(user_id)
        if delegate is not None:
            lookup(delegate)
        return seen, refuses_cycle(user_id, delegate, lookup)

    def users(self, text: str | None, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        return self.directory.users_page(self.caller.tenant, text, limit, cursor)

    def unknown(self, user_ids: set[str], group_ids: set[str]) -> tuple[list[str], list[str]]:
        """The given users and groups that do not exist in the caller's tenant."""
        users = sorted(user_ids - set(self.directory.users(self.caller.tenant, sorted(user_ids)))) if user_ids else []
        groups = sorted(g for g in group_ids if self.directory.get_group(self.caller.tenant, g)[0] is None)
        return users, groups

    def put_group(self, group: Group) -> tuple[Group, bool]:
        """Create or replace a group; the group as stored (members de-duplicated) and whether it
        was created."""
        require_role(self.caller, WRITE_ROLES)
        group = group.model_copy(update={"members": list(dict.fromkeys(group.members)),
                                         "leads": list(dict.fromkeys(group.leads))})
        for _ in range(MAX_ATTEMPTS):
            old, version = self.directory.get_group(self.caller.tenant, group.id)
            try:
                self.directory.put_group(self.caller.tenant, group, old.members if old else [], version,
                                         old.leads if old else [])
                return group, old is None
            except UnknownMember as unknown:
                raise BadRequest(f"Unknown user in members or leads: {unknown.user}" if unknown.user
                                 else "Unknown user in members or leads") from None
            except (GroupChanged, TransactionConflict):
                pass
        raise Conflict(f"Group {group.id} is changing too fast; try again")


def end_passed_absence(db: Dynamo, tenant: str, user_id: str, until: str, actor: str) -> bool:
    """The sweep's end of `user_id`'s absence at its `until` (its timer: the repository's
    `set_absence`): one conditional write removing it, pinned on the absence as read, with the
    user's `absence-end` event by `actor` (reason `absence-ended`). The router hears it as the
    user eligible again (tasks.stream). False when there is nothing to end: ended or changed
    meanwhile (a new absence has its own timer), or not yet passed."""
    directory = DirectoryRepository(db)
    for _ in range(MAX_ATTEMPTS):
        user = directory.users(tenant, [user_id]).get(user_id)
        absence = user.absence if user is not None else None
        if absence is None or absence.until != until or until > clock.stamp():
            return False
        try:
            return directory.set_absence(tenant, user_id, None, {user_id: absence}, actor, expired=True) is not None
        except AbsenceChanged:
            continue
    raise Conflict(f"The absence of {user_id} is changing too fast; try again", reason="busy")
