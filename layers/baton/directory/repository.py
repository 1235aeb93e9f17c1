"""The directory repository: users and groups of a tenant, and the client registrations of
sign-in. Takes and returns `User` and `Group`; a refused write is GroupChanged or UnknownMember.
A user or group assigned to activities carries its assignment rows' places: a change of the
name they sort by moves them in the same transaction (activities.order)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from baton.activities.order import COUNTERS, entry_place, entry_rank
from baton.attrs import to_attr
from baton.directory import memberships
from baton.directory.absence import Absence
from baton.directory.audit import absence_event
from baton.directory.domain import (
    PROFILE_FIELDS,
    AbsenceChanged,
    ClientRegistration,
    Group,
    GroupChanged,
    Presence,
    UnknownMember,
    User,
)
from baton.errors import BadRequest, Conflict
from baton.storage.dynamo import (
    MAX_TRANSACTION_ITEMS,
    ConditionFailed,
    Dynamo,
    TransactionConflict,
    deserialize,
    serialize,
)
from baton.storage.keys import ABSENCE_TIMER, ACTIVITY_SK, TIMER_KEYS, USERS, Keys, ranked_order, timer_keys


def search_text(*parts: str) -> str:
    """The normalised search field: case-folded, so non-ASCII names match too."""
    return "\n".join(p.casefold() for p in parts if p)


def user_from_item(item: dict[str, Any]) -> User:
    data = deserialize(item)
    return User.model_validate({**data, "id": data["userId"]})


class DirectoryRepository:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    # ---- users -----------------------------------------------------------------------------
    def put_user(self, tenant: str, user: User) -> tuple[bool, User]:
        """Create or replace a user's profile, keeping its group memberships, presence and load.
        Whether it was created, and the user as stored. The user item and the user's load item
        (Keys.person: the capacity, skills and `active` that the task writes' conditions read, next
        to the load) change in one transaction, after one read of both; if the user is assigned to
        activities and its first name or `active` changes, its assignment rows move in it too."""
        data = {k: v for k, v in user.model_dump(include=set(PROFILE_FIELDS)).items() if v is not None}
        data["userId"] = user.id
        data["searchText"] = search_text(user.firstname, user.lastname, user.username)
        data.update(skills=sorted(set(user.skills)), **Keys.profile(tenant, user.id, "USER"))  # see claim-next
        head = Keys.profile(tenant, user.id, "LOAD")  # the load item too: tasks.claimnext reads both
        names = {f"#{k}": k for k in data} | {"#capacity": "capacity"}
        values: dict[str, Any] = {f":{k}": v for k, v in data.items()}
        expression = "SET " + ", ".join(f"#{k} = :{k}" for k in data) + (" REMOVE #capacity" if user.capacity is None
                                                                          else "")
        update = {"Key": serialize(Keys.user(tenant, user.id)), "UpdateExpression": expression,
                  "ExpressionAttributeNames": names}
        person = {"Update": {
            "Key": serialize(Keys.person(tenant, user.id)),
            "UpdateExpression": "SET userId = :u, skills = :s, #a = :a, #l = if_not_exists(#l, :z), gsi3pk = :qp, "
                                "gsi3sk = :qs" + (", #c = :c" if user.capacity is not None else " REMOVE #c"),
            "ExpressionAttributeNames": {"#l": "load", "#c": "capacity", "#a": "active"},
            "ExpressionAttributeValues": serialize({":u": user.id, ":s": data["skills"], ":z": 0, ":a": user.active,
                                                    ":qp": head["gsi3pk"], ":qs": head["gsi3sk"],
                                                    **({":c": user.capacity} if user.capacity is not None else {})})}}
        for _ in range(8):
            found = {i["pk"]["S"]: deserialize(i) for i in self.db.batch_get(
                [Keys.user(tenant, user.id), Keys.person(tenant, user.id)])}
            old = found.get(Keys.directory(tenant), {})
            load = found.get(Keys.person(tenant, user.id)["pk"], {})
            moves = bool(old.get("assignedTo")) and (old.get("firstname") != data["firstname"]
                                                     or old.get("active") != data["active"])
            try:
                if moves:
                    self._move_rows(old, {**old, **data}, {"Update": {
                        **update, "ConditionExpression": "aasVersion = :aasVersion",
                        "ExpressionAttributeValues": serialize({**values, ":aasVersion": old.get("aasVersion", 0)})}},
                        [person])
                else:
                    condition = "attribute_not_exists(pk)" if not old else (
                        "attribute_exists(pk) AND (attribute_not_exists(assignedTo) OR "
                        "(#firstname = :firstname AND #active = :active))")
                    self.db.transact([{"Update": {**update, "ConditionExpression": condition,
                                                  "ExpressionAttributeValues": serialize(values)}}, person])
                return not old, self._stored(old, data, load)
            except (ConditionFailed, TransactionConflict):
                continue  # created, assigned or renamed meanwhile: look again
        raise Conflict(f"User {user.id} is changing too fast; try again")

    @staticmethod
    def _stored(old: dict[str, Any], profile: dict[str, Any], load: dict[str, Any]) -> User:
        """The user as a profile write leaves it: the new profile over what it kept."""
        kept = {k: v for k, v in old.items() if k not in PROFILE_FIELDS}
        return User.model_validate({**kept, **profile, "id": profile["userId"], "load": load.get("load", 0),
                                    "lastAssignedAt": load.get("lastAssignedAt")})

    def _with_loads(self, tenant: str, users: list[User]) -> list[User]:
        """The users with their load items' `load` and `lastAssignedAt` (one BatchGetItem per 100)."""
        if not users:
            return users
        loads = {d["userId"]: d for d in map(deserialize, self.db.batch_get(Keys.person(tenant, u.id) for u in users))}
        return [u.model_copy(update={"load": int(loads.get(u.id, {}).get("load", 0)),
                                     "lastAssignedAt": loads.get(u.id, {}).get("lastAssignedAt")}) for u in users]

    def users_page(self, tenant: str, text: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[User], str | None]:
        pk = Keys.directory(tenant)
        values: dict[str, Any] = {":pk": pk, ":u": USERS}
        kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :pk AND begins_with(sk, :u)"}
        if text:
            values[":f"] = text.casefold()
            kwargs["FilterExpression"] = "contains(searchText, :f)"
        kwargs["ExpressionAttributeValues"] = serialize(values)
        page = self.db.query_page(limit, cursor, "pk", pk, USERS, **kwargs)
        return self._with_loads(tenant, [user_from_item(i) for i in page.items]), page.cursor

    def users(self, tenant: str, user_ids: Iterable[str]) -> dict[str, User]:
        """The users of these ids that exist, by id (one consistent BatchGetItem per 100)."""
        found = [user_from_item(i) for i in self.db.batch_get(Keys.user(tenant, u) for u in user_ids)]
        return {u.id: u for u in self._with_loads(tenant, found)}

    def set_presence(self, tenant: str, user_id: str, presence: Presence, at: str) -> User | None:
        """Set a user's presence (one conditional UpdateItem); the user as it now is, None if the
        tenant has no such user. `presenceSince` records when it last changed."""
        try:
            out = self.db.call(
                "update_item", TableName=self.db.table, Key=serialize(Keys.user(tenant, user_id)),
                UpdateExpression="SET presence = :p, presenceSince = :at", ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=serialize({":p": presence, ":at": at}), ReturnValues="ALL_NEW")
        except ConditionFailed:
            return None
        return self._with_loads(tenant, [user_from_item(out["Attributes"])])[0]

    def set_absence(self, tenant: str, user_id: str, absence: Absence | None,
                    seen: Mapping[str, Absence | None], actor: str, expired: bool = False) -> User | None:
        """Set (None: end) a user's absence, in one transaction that pins every absence the change
        was checked on (`seen`: the user's own and its delegate chain's, by user): a cycle cannot
        form between the read and the write; with its directory event (directory.audit: `actor`'s
        `absence-set` or `absence-end`, chained after the user's last one, whose number it pins) in
        the user's ledger and the tenant audit; the delegates' `standsInFor` (memberships). The user as
        it now is; None if none; AbsenceChanged if an absence in `seen` (or the ledger) changed meanwhile."""
        def pinned(user: str) -> tuple[str, dict[str, Any]]:
            before = seen.get(user)
            if before is None:
                return "attribute_exists(pk) AND attribute_not_exists(absence)", {}
            return "attribute_exists(pk) AND absence = :was", {":was": to_attr(before.public())}
        if (found := self.db.get(Keys.user(tenant, user_id))) is None:
            return None
        version = int((ledger_at := deserialize(found)).get("ledgerVersion", 0))
        event = absence_event(user_id, actor, seen.get(user_id), absence, version, ledger_at.get("lastHash"), expired)
        cond, values = pinned(user_id)
        cond += " AND " + ("#lv = :lv0" if version else "attribute_not_exists(#lv)")
        values = {**values, ":lv1": to_attr(version + 1), ":lh": to_attr(event["hash"]),
                  **({":lv0": to_attr(version)} if version else {})}
        update = {"UpdateExpression": "SET #lv = :lv1, lastHash = :lh" + (
            " REMOVE absence, #tp, #ts" if absence is None else ", absence = :a, #tp = :tp, #ts = :ts")}
        if absence is not None:  # with its timer at `until` (tasks.timers: the sweep ends it, `expired`)
            tp, ts = timer_keys(tenant, user_id, absence.until, event["at"], ABSENCE_TIMER)
            values = {**values, ":a": to_attr(absence.public()), ":tp": to_attr(tp), ":ts": to_attr(ts)}
        actions: list[dict[str, Any]] = [{"Update": {
            "Key": serialize(Keys.user(tenant, user_id)), "ConditionExpression": cond, **update,
            "ExpressionAttributeNames": {"#lv": "ledgerVersion", "#tp": TIMER_KEYS[0], "#ts": TIMER_KEYS[1]},
            "ExpressionAttributeValues": values}}]
        actions.append({"Put": {"Item": serialize({
            **event, **Keys.user_event(tenant, user_id, event["version"]),
            **Keys.audit_keys(tenant, event["at"], event["id"])}), "ConditionExpression": "attribute_not_exists(pk)"}})
        moves = memberships.stand_in_moves(user_id, seen.get(user_id), absence)  # the delegates' `standsInFor`
        for other in dict.fromkeys([*seen, *moves]):
            if other != user_id:
                check, check_values = pinned(other) if other in seen else ("attribute_exists(pk)", {})
                actions.append(memberships.delegate_op(serialize(Keys.user(tenant, other)), check, check_values,
                                                       moves.get(other), user_id))
        try:
            self.db.transact(actions)
        except ConditionFailed as failed:
            if failed.index == 0 and not failed.item:
                return None
            raise AbsenceChanged() from None
        return self.users(tenant, [user_id]).get(user_id)

    def groups_of(self, tenant: str, user_id: str) -> list[str]:
        """The groups a user is a member of (none for an unknown user)."""
        items = self.db.batch_get([Keys.user(tenant, user_id)])
        return list(deserialize(items[0]).get("groups", [])) if items else []

    def drop_membership(self, tenant: str, user_id: str, group_id: str) -> None:
        """Take a group the directory no longer has (or that no longer lists the user) off the
        user item's memberships and leads (one UpdateItem; none for an unknown user)."""
        with contextlib.suppress(ConditionFailed):
            self.db.call("update_item", TableName=self.db.table, Key=serialize(Keys.user(tenant, user_id)),
                         UpdateExpression="DELETE #g :g, #l :g", ConditionExpression="attribute_exists(pk)",
                         ExpressionAttributeNames={"#g": "groups", "#l": "leads"},
                         ExpressionAttributeValues={":g": {"SS": [group_id]}})

    # ---- groups ----------------------------------------------------------------------------
    def get_group(self, tenant: str, group_id: str) -> tuple[Group | None, int]:
        if not (item := self.db.get(Keys.group(tenant, group_id))):
            return None, 0
        data = deserialize(item)
        return Group.model_validate({**data, "id": data["groupId"]}), int(data.get("version", 0))

    def set_routing_last(self, tenant: str, group_id: str, user_id: str) -> None:
        """Record whom the router gave the group's last task (round-robin goes on after them)."""
        with contextlib.suppress(ConditionFailed):  # the group is gone: nothing to remember
            self.db.call("update_item", TableName=self.db.table, Key=serialize(Keys.group(tenant, group_id)),
                         UpdateExpression="SET routingLast = :u", ConditionExpression="attribute_exists(pk)",
                         ExpressionAttributeValues=serialize({":u": user_id}))

    def put_group(self, tenant: str, group: Group, old_members: list[str], old_version: int,
                  old_leads: list[str] | None = None) -> None:
        """Replace a group read at `old_version` and move the memberships and leads (`old_leads`;
        None: unchanged) on the user items, in one transaction (a new title also moves the group's
        assignment rows to their new place in the lists). GroupChanged if it changed since;
        UnknownMember for a member or lead that is no user."""
        moves = memberships.moves(group, old_members, old_leads)  # user -> attribute -> ADD or DELETE
        if len(moves) + 1 > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"At most {MAX_TRANSACTION_ITEMS - 1} membership and lead changes per request")
        fields = {"groupId": group.id, "name": group.name, "members": group.members, "version": old_version + 1,
                  "searchText": search_text(group.name), "routing": group.routing.model_dump(exclude_none=True),
                  "leads": group.leads}
        values = {f":{k}": v for k, v in fields.items()}
        cond = "attribute_not_exists(pk)" if old_version == 0 else "version = :v"
        if old_version:
            values[":v"] = old_version
        update: dict[str, Any] = {
            "Key": serialize(Keys.group(tenant, group.id)),
            "UpdateExpression": "SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            "ExpressionAttributeNames": {f"#{k}": k for k in fields}}
        users = list(moves)
        members: list[dict[str, Any]] = [{"Update": {
            "Key": serialize(Keys.user(tenant, u)), "ConditionExpression": "attribute_exists(pk)",
            "UpdateExpression": memberships.update_expression(moves[u]),
            "ExpressionAttributeNames": {f"#{a}": a for a in moves[u]},
            "ExpressionAttributeValues": {":g": {"SS": [group.id]}}}} for u in users]
        try:
            try:
                self.db.transact([{"Update": {
                    **update, "ConditionExpression": f"{cond} AND (attribute_not_exists(assignedTo) OR #name = :name)",
                    "ExpressionAttributeValues": serialize(values)}}, *members])
            except ConditionFailed as failed:
                old = deserialize(failed.item) if failed.index == 0 and failed.item else None
                if old is None or old.get("version", 0) != old_version or not old.get("assignedTo"):
                    raise
                # a new title for an assigned group: its rows move, pinned on its assignments
                values[":aasVersion"] = old.get("aasVersion", 0)
                self._move_rows(old, {**old, **fields}, {"Update": {
                    **update, "ConditionExpression": f"{cond} AND aasVersion = :aasVersion",
                    "ExpressionAttributeValues": serialize(values)}}, members)
        except ConditionFailed as failed:
            if failed.index == 0:
                raise GroupChanged() from None
            user = users[failed.index - 1] if failed.index - 1 < len(users) else None
            raise UnknownMember(user if user is not None and "ADD" in moves[user].values() else None) from None

    def _move_rows(self, old: dict[str, Any], new: dict[str, Any], head: dict[str, Any],
                   others: Sequence[dict[str, Any]] = ()) -> None:
        """Write `head` (the entry's own change) and move the entry's assignment rows from its old
        place in the lists to its new one, adjusting the activities' counts when it starts or stops
        counting (an inactive user), all in one transaction."""
        before, after = ranked_order(*entry_place(old)), ranked_order(*entry_place(new))
        delta = (entry_rank(new) in COUNTERS) - (entry_rank(old) in COUNTERS)
        counter = COUNTERS.get(entry_rank(new)) or COUNTERS.get(entry_rank(old))
        kind = "group" if "groupId" in new else "user"
        uid = new["groupId"] if kind == "group" else new["userId"]
        actions: list[dict[str, Any]] = [head, *others]
        for activity_pk in old.get("assignedTo", []):
            if before != after:
                actions.append({"Delete": {"Key": serialize(Keys.assignee(activity_pk, before))}})
                actions.append({"Put": {"Item": serialize({**Keys.assignee(activity_pk, after), "aasUid": uid,
                                                           "aasType": kind})}})
            if delta and counter:
                actions.append({"Update": {"Key": serialize({"pk": activity_pk, "sk": ACTIVITY_SK}),
                                           "UpdateExpression": "ADD #c :d", "ExpressionAttributeNames": {"#c": counter},
                                           "ExpressionAttributeValues": serialize({":d": delta})}})
        if len(actions) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"This change moves the {kind}'s place in {len(old.get('assignedTo', []))} activities' "
                             f"assignee lists: at most {MAX_TRANSACTION_ITEMS} writes fit one transaction")
        self.db.transact(actions)

    # ---- sign-in clients -------------------------------------------------------------------
    def client_registration(self, client_id: str) -> ClientRegistration | None:
        """A client-credentials app client's registration (tenant and roles), if it has one."""
        item = self.db.get(Keys.client_registration(client_id))
        if not item:
            return None
        data = deserialize(item)
        return ClientRegistration(str(data["tenant"]), tuple(data.get("roles", [])))
