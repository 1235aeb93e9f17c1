"""Step Functions callbacks: a task created with `callback.stepFunctionsTaskToken` ends the
execution waiting on it (docs/workflows.md).

Derived from the table's stream, never from memory: the change of a task item that carries a
token is the callback's durable record, written in the same transaction as the change.

- complete (status open → completed): `SendTaskSuccess` with `{taskId, outcome, variables,
  completedBy, completedAt}`;
- abandon (open → abandoned): `SendTaskFailure`, error `Baton.TaskAbandoned`;
- a holder's heartbeat (same holder, a later lease): `SendTaskHeartbeat`.

Delivery is at least once (a stream record is retried until it is delivered, then goes to the
dead-letter queue); its effect is once: a deliverer first claims the callback with a marker item
next to its task (one conditional Put: none yet, or a claim that ran out), calls, then records
the outcome on its marker (conditional on its claim). A replayed record finds the outcome and
calls nothing; a second reader of the same stream (two `baton serve` on one table) finds the
claim in flight and is retried later (a ClientError, `CallbackInFlight`), so it calls nothing
either; a deliverer that died between claim and outcome leaves a claim that runs out after
CLAIM_SECONDS, and the retry calls then. A failed call gives its claim back at once. A token Step
Functions says is closed (`TaskTimedOut`, `InvalidToken`, `TaskDoesNotExist`) is recorded as
such and never retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from baton import clock
from baton.attrs import from_attr
from baton.storage.dynamo import ConditionFailed, Dynamo, serialize
from baton.storage.keys import TASK_SK, Keys
from baton.table import PK, SK

Kind = Literal["success", "failure", "heartbeat"]
TOKEN = "callbackToken"  # the task item's attribute; never served, never logged
ABANDONED_ERROR = "Baton.TaskAbandoned"
CLOSED = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
MARKER_SK = "CALLBACK#"
CLAIM_SECONDS = 60  # a claim without an outcome (its deliverer died mid-call) may be taken over after this
IN_FLIGHT = "CallbackInFlight"


@dataclass(frozen=True)
class Callback:
    """One call to make: `kind` for the task at `version`, with the token and the payload."""

    tenant: str
    task_id: str
    version: int
    kind: Kind
    token: str
    output: dict[str, Any] | None = None

    def __repr__(self) -> str:  # the token is a secret: never in a log line or a traceback
        return f"Callback({self.tenant!r}, {self.task_id!r}, v{self.version}, {self.kind})"


def _plain(image: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: from_attr(v) for k, v in (image or {}).items()}


def callback_of(record: Mapping[str, Any]) -> Callback | None:
    """The callback a DynamoDB stream record asks for, or None."""
    change = record.get("dynamodb") or {}
    keys = change.get("Keys") or {}
    pk, sk = keys.get(PK, {}).get("S"), keys.get(SK, {}).get("S")
    if record.get("eventName") != "MODIFY" or sk != TASK_SK or not isinstance(pk, str):
        return None
    tenant = Keys.tenant_of_task(pk)
    new, old = _plain(change.get("NewImage")), _plain(change.get("OldImage"))
    token = new.get(TOKEN)
    if tenant is None or not isinstance(token, str) or not token or old.get("status") != "open":
        return None
    base = (tenant, str(new.get("id")), int(new.get("version", 0)))
    status = new.get("status")
    if status == "completed":
        variables = new.get("variables")
        if isinstance(variables, str):  # stored as JSON text (tasks.layout)
            variables = json.loads(variables)
        output = {"taskId": new.get("id"), "outcome": new.get("outcome"), "variables": variables,
                  "completedBy": new.get("completedBy"), "completedAt": new.get("completedAt")}
        return Callback(*base, "success", token, output)
    if status == "abandoned":
        return Callback(*base, "failure", token)
    lease, before = new.get("leaseExpiresAt"), old.get("leaseExpiresAt")
    if (status == "open" and lease and before and lease > before and new.get("assignee") is not None
            and new.get("assignee") == old.get("assignee")):
        return Callback(*base, "heartbeat", token)
    return None


def callbacks_of(records: Iterable[Mapping[str, Any]]) -> list[tuple[int, Callback]]:
    """The callbacks of a batch of stream records, with each record's position in the batch."""
    found = [(i, callback_of(r)) for i, r in enumerate(records)]
    return [(i, cb) for i, cb in found if cb is not None]


class Deliverer:
    """Makes callbacks: one Step Functions call each, at most one effect each (the marker)."""

    def __init__(self, db: Dynamo, states: Any) -> None:
        self.db, self.states = db, states

    def _marker(self, cb: Callback) -> dict[str, str]:
        return {"pk": Keys.task(cb.tenant, cb.task_id)["pk"], "sk": f"{MARKER_SK}{cb.version:012d}#{cb.kind}"}

    def delivered(self, cb: Callback) -> bool:
        """Whether the callback's call was made (its marker holds an outcome)."""
        marker = self.db.get(self._marker(cb))
        return marker is not None and "outcome" in marker

    def _claim(self, cb: Callback) -> str | None:
        """Take the callback for this deliverer: its claim id, or None when it was delivered. A
        live claim of another deliverer raises (the record is retried after it)."""
        claim = uuid.uuid4().hex
        try:
            self.db.call("put_item", TableName=self.db.table,
                         ConditionExpression="attribute_not_exists(pk) OR "
                                             "(attribute_not_exists(#o) AND #u < :now)",
                         ExpressionAttributeNames={"#o": "outcome", "#u": "claimedUntil"},
                         ExpressionAttributeValues=serialize({":now": clock.stamp()}),
                         Item=serialize({**self._marker(cb), "claim": claim, "taskId": cb.task_id,
                                         "claimedUntil": clock.after(CLAIM_SECONDS)}))
        except ConditionFailed:
            if self.delivered(cb):
                return None
            raise ClientError({"Error": {"Code": IN_FLIGHT, "Message": "another deliverer is making this call"}},
                              "PutItem") from None
        return claim

    def _settle(self, cb: Callback, claim: str, outcome: str | None) -> None:
        """Record the call's outcome on this deliverer's marker, or (None: the call failed) give the claim back."""
        mine = {"ConditionExpression": "#c = :c", "ExpressionAttributeNames": {"#c": "claim"},
                "ExpressionAttributeValues": serialize({":c": claim})}
        try:
            if outcome is None:
                self.db.call("delete_item", TableName=self.db.table, Key=serialize(self._marker(cb)), **mine)
            else:
                self.db.call("put_item", TableName=self.db.table, **mine,
                             Item=serialize({**self._marker(cb), "outcome": outcome, "taskId": cb.task_id}))
        except ConditionFailed:
            pass  # the claim ran out and another deliverer took it over: its marker stands

    def deliver(self, cb: Callback) -> str:
        """Make the call unless it was made: "sent", "closed" (the execution is gone) or
        "duplicate". A transient failure (or another deliverer's call in flight) raises, so the
        record is retried."""
        claim = self._claim(cb)
        if claim is None:
            return "duplicate"
        outcome = "sent"
        try:
            if cb.kind == "success":
                self.states.send_task_success(taskToken=cb.token, output=json.dumps(cb.output, sort_keys=True))
            elif cb.kind == "failure":
                self.states.send_task_failure(taskToken=cb.token, error=ABANDONED_ERROR,
                                              cause=f"Task {cb.task_id} was abandoned")
            else:
                self.states.send_task_heartbeat(taskToken=cb.token)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in CLOSED:
                self._settle(cb, claim, None)
                raise
            outcome = "closed"
        except BaseException:
            self._settle(cb, claim, None)
            raise
        self._settle(cb, claim, outcome)
        return outcome
