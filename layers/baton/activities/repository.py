"""The activity repository: ProcessMaker activities, their projects, and their assignment rows.
Takes and returns `Activity` and `Entry`; a refused assignment write is AssignmentRaced
(AlreadyAssigned when the same id was assigned meanwhile as the other kind).

The assignment rows are stored in list order (their sort key is the entry's place,
activities.order, kept right by every rename in directory.repository), so an
unfiltered page reads what it shows: one Query from the activity item (which sorts first and
carries the counts) up to the page's end."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from baton import clock, ledger
from baton.activities.domain import Activity, AlreadyAssigned, AssignmentRaced, Entry
from baton.activities.order import COUNTERS, entry_place, entry_rank
from baton.storage.dynamo import ConditionFailed, Dynamo, deserialize, serialize
from baton.storage.keys import AAS, ACTIVITY_SK, Keys, ranked_order


def entry_from_item(data: dict[str, Any], activity_pk: str | None = None) -> Entry:
    """A (deserialized) directory item as an Entry; `assigned` to the activity `activity_pk`."""
    assigned = activity_pk is not None and activity_pk in data.get("assignedTo", [])
    if "groupId" in data:
        return Entry("group", data["groupId"], str(data.get("name", "")), members=tuple(data.get("members", [])),
                     assigned=assigned)
    return Entry("user", data["userId"], str(data.get("firstname", "")), str(data.get("lastname", "")),
                 str(data.get("username", "")), bool(data.get("active", True)), assigned=assigned)


def _item_of(entry: Entry) -> dict[str, Any]:
    """What the list order reads of an entry to place it (entry_place, entry_rank)."""
    if entry.kind == "group":
        return {"groupId": entry.uid, "name": entry.name}
    return {"userId": entry.uid, "firstname": entry.name, "active": entry.active}


def directory_event(tenant: str, activity: Activity, entry: Entry, actor: str, adding: bool) -> dict[str, Any]:
    """The ledger event of an assignee change (served as the tenant audit shows it), numbered and
    hashed after the activity's last one."""
    who = {"aas_uid": entry.uid, "aas_type": entry.kind}
    event: dict[str, Any] = {
        "id": uuid.uuid4().hex, "kind": ledger.DIRECTORY_KIND, "projectId": activity.project_id,
        "activityId": activity.id, "version": activity.ledgerVersion + 1, "at": clock.stamp(), "actor": actor,
        "action": "assignee-add" if adding else "assignee-remove", "from": None if adding else entry.uid,
        "to": entry.uid if adding else None, "comment": None,
        "changes": {"assignees": {"from": None, "to": who} if adding else {"from": who, "to": None}},
        "reason": "request", "onBehalfOf": None}
    event["hash"] = ledger.event_hash(activity.lastHash, event)
    return event


def in_list_order(entries: Iterable[Entry]) -> list[Entry]:
    """Entries as the lists show them: groups by title, then users by first name (ties by id)."""
    return sorted(entries, key=lambda e: ranked_order(*entry_place(_item_of(e))))


class ActivityRepository:
    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def put_activity(self, tenant: str, activity: Activity) -> bool:
        """Create or update an activity (its assignees and their count are kept); True if created.
        A creation also records its project (one transaction), so an unknown project can be named."""
        key = Keys.activity(tenant, activity.project_id, activity.id)
        lease = (", leaseSeconds = :l" if activity.leaseSeconds else "")
        removed = [f for f, v in (("leaseSeconds", activity.leaseSeconds), ("requiredSkills", activity.requiredSkills),
                                  ("escalations", activity.escalations), ("separation", activity.separation)) if not v]
        values = {":p": activity.project_id, ":a": activity.id, ":n": activity.name, ":t": activity.type,
                  ":l": activity.leaseSeconds, ":rs": sorted(set(activity.requiredSkills)), ":e": activity.escalations,
                  ":sd": activity.separation}
        update = {"Key": serialize(key),
                  "UpdateExpression": "SET projectId = :p, activityId = :a, #n = :n, #t = :t" + lease
                                      + (", requiredSkills = :rs" if activity.requiredSkills else "")
                                      + (", escalations = :e" if activity.escalations else "")
                                      + (", separation = :sd" if activity.separation else "")
                                      + (" REMOVE " + ", ".join(removed) if removed else ""),
                  "ExpressionAttributeNames": {"#n": "name", "#t": "type"},
                  "ExpressionAttributeValues": serialize({k: v for k, v in values.items() if v})}
        try:
            self.db.transact([
                {"Update": {**update, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"Key": serialize(Keys.project(tenant, activity.project_id)),
                            "UpdateExpression": "SET projectId = :p",
                            "ExpressionAttributeValues": serialize({":p": activity.project_id})}}])
            return True
        except ConditionFailed:
            self.db.call("update_item", TableName=self.db.table, **update)
            return False

    def project_exists(self, tenant: str, project_id: str) -> bool:
        return self.db.get(Keys.project(tenant, project_id), projection="pk") is not None

    def activity_with_assignees(self, tenant: str, project_id: str, activity_id: str, limit: int | None = None,
                                kind: str | None = None) -> tuple[Activity | None, int, list[tuple[str, str]]]:
        """The activity, its assignee count, and its assignees as (kind, id) in list order (groups
        by title, then users by first name; inactive users are not listed): the first `limit` of
        them, or all; only the groups or only the users with `kind`. The activity item sorts first
        in its partition, right before the group rows, so this is one Query (a page costs what it
        reads up to its end, not the list's size); the users alone take a GetItem more."""
        key = Keys.activity(tenant, project_id, activity_id)
        low, high = (AAS + "U", AAS + "V") if kind == "user" else (ACTIVITY_SK, AAS + ("H" if kind == "group" else "V"))
        items = [deserialize(i) for i in self.db.query_all(
            None if limit is None else limit + 1, KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=serialize({":pk": key["pk"], ":lo": low, ":hi": high}), ConsistentRead=True)]
        if kind == "user":
            head = self.db.get(key)
            items = ([deserialize(head)] if head else []) + items
        if not items or items[0]["sk"] != key["sk"]:
            return None, 0, []
        head_item = items[0]
        act = Activity.model_validate({**head_item, "id": head_item["activityId"]})
        counts = {k: int(head_item.get(c, 0)) for k, c in (("group", "groupCount"), ("user", "userCount"))}
        return act, counts[kind] if kind else sum(counts.values()), [(r["aasType"], r["aasUid"]) for r in items[1:]]

    def activity_and_entries(self, tenant: str, project_id: str, activity_id: str, uid: str
                             ) -> tuple[Activity | None, Entry | None, Entry | None]:
        """One consistent BatchGetItem: the activity, and the user and the group with this id
        (each `assigned` or not to the activity)."""
        act, user, group = Keys.activity(tenant, project_id, activity_id), Keys.user(tenant, uid), \
            Keys.group(tenant, uid)
        found = {(i["pk"], i["sk"]): i for i in map(deserialize, self.db.batch_get([act, user, group]))}
        head = found.get((act["pk"], act["sk"]))
        activity = Activity.model_validate({**head, "id": head["activityId"]}) if head else None
        user_item, group_item = (found.get((k["pk"], k["sk"])) for k in (user, group))
        return (activity, entry_from_item(user_item, act["pk"]) if user_item else None,
                entry_from_item(group_item, act["pk"]) if group_item else None)

    def entries(self, tenant: str, pairs: Iterable[tuple[str, str]]) -> list[Entry]:
        """The directory entries of these (kind, id) pairs that exist (BatchGetItem per 100)."""
        wanted = [Keys.user(tenant, i) if k == "user" else Keys.group(tenant, i) for k, i in pairs]
        return [entry_from_item(deserialize(i)) for i in self.db.batch_get(wanted)]

    def directory(self, tenant: str, project_id: str, activity_id: str) -> list[Entry]:
        """The tenant's whole directory (one Query of its partition) in list order, each entry
        `assigned` or not to the activity."""
        act_pk = Keys.activity(tenant, project_id, activity_id)["pk"]
        items = self.db.query_all(KeyConditionExpression="pk = :pk",
                                  ExpressionAttributeValues=serialize({":pk": Keys.directory(tenant)}))
        return in_list_order(entry_from_item(deserialize(i), act_pk) for i in items)

    def add_assignee(self, tenant: str, activity: Activity, entry: Entry, actor: str) -> None:
        self._assign(tenant, activity, entry, actor, adding=True)

    def remove_assignee(self, tenant: str, activity: Activity, entry: Entry, actor: str) -> None:
        self._assign(tenant, activity, entry, actor, adding=False)

    def _assign(self, tenant: str, activity: Activity, entry: Entry, actor: str, adding: bool) -> None:
        """Assign (or unassign) a directory entry in one transaction: the activity (exists, a task;
        counted; its ledger moved on from the version read), the entry (its `assignedTo` set, pinned
        on the name and state its row's place came from), the other kind's entry of the same id (not
        assigned; adding only), the row itself, and the change's directory event (`assignee-add` or
        `assignee-remove`, by `actor`) in the activity's ledger and the tenant audit.
        AssignmentRaced if any of them changed since read (AlreadyAssigned: the other kind)."""
        project_id, activity_id = activity.project_id, activity.id
        act = Keys.activity(tenant, project_id, activity_id)
        item = _item_of(entry)
        group = entry.kind == "group"
        uid = entry.uid
        counter = COUNTERS.get(entry_rank(item))
        event = directory_event(tenant, activity, entry, actor, adding)
        # The activity's ledger moves on from the version read: two writes never chain off one hash.
        ledger_at = "#lv = :lv0" if activity.ledgerVersion else "attribute_not_exists(#lv)"
        act_action: dict[str, Any] = {
            "Key": serialize(act), "ConditionExpression": f"attribute_exists(pk) AND {ledger_at}",
            "UpdateExpression": "SET #lv = :lv1, lastHash = :lh",
            "ExpressionAttributeNames": {"#lv": "ledgerVersion"},
            "ExpressionAttributeValues": serialize({":lv1": event["version"], ":lh": event["hash"],
                                                    **({":lv0": activity.ledgerVersion} if activity.ledgerVersion
                                                       else {})})}
        if adding:
            act_action["ConditionExpression"] += " AND #t = :task"
            act_action["ExpressionAttributeNames"]["#t"] = "type"
            act_action["ExpressionAttributeValues"][":task"] = {"S": "task"}
        if counter:
            act_action["UpdateExpression"] += " ADD #c :d"
            act_action["ExpressionAttributeNames"]["#c"] = counter
            act_action["ExpressionAttributeValues"][":d"] = {"N": "1" if adding else "-1"}
        pin = "#n = :n" if group else "#n = :n AND #ac = :ac"
        names = {"#n": "name" if group else "firstname", "#to": "assignedTo"}
        values: dict[str, Any] = {":n": entry.name, ":one": 1}
        if not group:
            names["#ac"] = "active"
            values[":ac"] = entry.active
        entry_values = {**serialize(values), ":act": {"S": act["pk"]}, ":set": {"SS": [act["pk"]]}}
        row = Keys.assignee(act["pk"], ranked_order(*entry_place(item)))
        actions: list[dict[str, Any]] = [
            {"Update": act_action},
            {"Update": {"Key": serialize(Keys.group(tenant, uid) if group else Keys.user(tenant, uid)),
                        "UpdateExpression": "ADD #to :set, aasVersion :one" if adding
                        else "DELETE #to :set ADD aasVersion :one",
                        "ConditionExpression": f"{pin} AND {'NOT ' if adding else ''}contains(#to, :act)",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": entry_values}}]
        if adding:
            other = Keys.user(tenant, uid) if group else Keys.group(tenant, uid)
            actions.append({"ConditionCheck": {
                "Key": serialize(other), "ConditionExpression": "attribute_not_exists(pk) OR NOT contains(#to, :act)",
                "ExpressionAttributeNames": {"#to": "assignedTo"},
                "ExpressionAttributeValues": {":act": {"S": act["pk"]}}}})
            actions.append({"Put": {"Item": serialize({**row, "aasUid": uid, "aasType": entry.kind}),
                                    "ConditionExpression": "attribute_not_exists(pk)"}})
        else:
            actions.append({"Delete": {"Key": serialize(row), "ConditionExpression": "attribute_exists(pk)"}})
        actions.append({"Put": {"Item": serialize({
            **event, "pk": act["pk"], "sk": Keys.directory_event_sk(event["version"]),
            **Keys.audit_keys(tenant, event["at"], event["id"])}), "ConditionExpression": "attribute_not_exists(pk)"}})
        try:
            self.db.transact(actions)
        except ConditionFailed as failed:
            if adding and failed.index == 2:
                raise AlreadyAssigned() from None
            raise AssignmentRaced() from None
