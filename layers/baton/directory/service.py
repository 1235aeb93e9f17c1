"""Directory writes and reads: users and groups, over the directory repository."""

from __future__ import annotations

from baton import clock
from baton.directory.domain import Group, GroupChanged, Presence, UnknownMember, User
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

    def users(self, text: str | None, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        return self.directory.users_page(self.caller.tenant, text, limit, cursor)

    def put_group(self, group: Group) -> tuple[Group, bool]:
        """Create or replace a group; the group as stored (members de-duplicated) and whether it
        was created."""
        require_role(self.caller, WRITE_ROLES)
        group = group.model_copy(update={"members": list(dict.fromkeys(group.members))})
        for _ in range(MAX_ATTEMPTS):
            old, version = self.directory.get_group(self.caller.tenant, group.id)
            try:
                self.directory.put_group(self.caller.tenant, group, old.members if old else [], version)
                return group, old is None
            except UnknownMember as unknown:
                raise BadRequest(f"Unknown user in members: {unknown.user}" if unknown.user
                                 else "Unknown user in members") from None
            except (GroupChanged, TransactionConflict):
                pass
        raise Conflict(f"Group {group.id} is changing too fast; try again")
