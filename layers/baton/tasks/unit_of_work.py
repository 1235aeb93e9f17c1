"""Units of work: where the task repository's writes go. A write is a list of `Op` values (a Put,
a Delete or a ConditionCheck, each with its condition as a `storage.conditions` rule, rendered
only when the transaction is made), owned by one task.

- `UnitOfWork`: each write is its own transaction, made at once (every request but a bulk
  atomic one). A refused condition raises `ConditionFailed` at the write, for the repository to
  turn into an outcome.
- `Batch`: the writes of a bulk atomic request are staged and made together by `commit`, in ONE
  transaction: all or none. Two checks on one item (DynamoDB takes one operation per item) are
  one check of both rules, and two changes of one user's holds in one case (tasks.separation) are
  one Update adding both, refused at once (SeparationRefused) when they are separated from each
  other. A refused condition raises `AtomicRefused` naming the task it belongs to, and the rule it
  stands for when the repository said (`why`: the case ledger's separation). (cosmicpython's unit
  of work, in Baton's shape: the repository writes through it and never knows which one it has.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

from baton.attrs import to_attr
from baton.errors import BadRequest
from baton.storage.conditions import Rule, absent, at_most, below, either, eq, rule
from baton.storage.dynamo import MAX_TRANSACTION_ITEMS, ConditionFailed, Dynamo
from baton.tasks.domain import AtomicRefused, SeparationRefused
from baton.tasks.separation import LedgerEntry, crossed

# What a refused op means as a rule: the item as it was (ALL_OLD; None: none) -> the rule's words.
Why = Callable[[dict[str, Any] | None], str]


class Op(NamedTuple):
    """One operation of a transaction: `target` is the item (Put) or the key (Delete,
    ConditionCheck, Update), in DynamoDB's attribute format; `condition` what it asserts; an
    Update's `update` is its UpdateExpression and the attribute names and values it uses.

    An Update without `update` is a change of a user's load (API.md "People"): `delta` open tasks
    more (or fewer), `at` its last assignment when it gains one. Gaining, it asserts the capacity
    at write time (`load_rule`): `load < capacity` for one task; for several at once (a bulk atomic
    request giving one user several tasks) a condition cannot compute `capacity - n`, so it pins
    the capacity read (`limit`) instead."""

    kind: Literal["Put", "Delete", "ConditionCheck", "Update"]
    target: dict[str, Any]
    condition: Rule | None = None
    params: Mapping[str, Any] = {}
    delta: int = 0
    at: str | None = None
    limit: int | None = None
    pinned: bool = False
    update: tuple[str, Mapping[str, str], Mapping[str, Any]] | None = None
    ledger: tuple[LedgerEntry, ...] = ()  # an Update of a case ledger item: the entries it adds

    def load_rule(self) -> Rule | None:
        if self.kind != "Update" or self.update is not None or self.delta <= 0:
            return None
        if self.delta == 1 and not self.pinned:
            return rule(either(absent("capacity"), below("load", "capacity")))
        if self.limit is None:
            return rule(absent("capacity"))
        return rule(eq("capacity", self.limit), at_most("load", self.limit - self.delta))

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {("Item" if self.kind == "Put" else "Key"): self.target}
        condition = self.condition
        capacity = self.load_rule()
        if capacity is not None:
            condition = capacity if condition is None else condition & capacity
        if condition is not None:
            body.update(condition.condition("c", **self.params).kwargs())
        if self.update is not None:
            expression, names, values = self.update
        elif self.kind == "Update":  # a load change
            names = {"#ld": "load"}
            plain: dict[str, Any] = {":z": 0, ":d": self.delta}
            expression = "SET #ld = if_not_exists(#ld, :z) + :d"
            if self.delta > 0 and self.at:
                expression += ", #la = :at"
                names["#la"], plain[":at"] = "lastAssignedAt", self.at
            values = {k: to_attr(v) for k, v in plain.items()}
        if self.kind == "Update":
            body["UpdateExpression"] = expression
            body["ExpressionAttributeNames"] = {**body.get("ExpressionAttributeNames", {}), **names}
            body["ExpressionAttributeValues"] = {**body.get("ExpressionAttributeValues", {}), **values}
        return {self.kind: body}


class UnitOfWork:
    """Each write its own transaction, made at once."""

    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def write(self, ops: Sequence[Op], owner: str, why: Mapping[int, Why] | None = None) -> None:
        """Make the write now; ConditionFailed (with the failing op's index) when refused. `why`: by
        op index, what a refusal of that op means as a rule (the item as it was -> the rule), for a
        staged write that cannot be turned into an outcome by the repository (`Batch`)."""
        self.db.transact([op.render() for op in ops])


class Batch(UnitOfWork):
    """The writes of one bulk atomic request, staged, then made in ONE transaction (`commit`)."""

    def __init__(self, db: Dynamo) -> None:
        super().__init__(db)
        self.ops: list[Op] = []
        self.owners: list[str] = []  # the task each op belongs to
        self.whys: list[Why | None] = []  # what a refusal of each op means as a rule (the case ledger's)

    def write(self, ops: Sequence[Op], owner: str, why: Mapping[int, Why] | None = None) -> None:
        for i, op in enumerate(ops):
            if op.kind in ("ConditionCheck", "Update") and self._merge(op):
                continue
            self.ops.append(op)
            self.owners.append(owner)
            self.whys.append((why or {}).get(i))

    def _merge(self, new: Op) -> bool:
        """A second operation on a user item already in the batch joins the first (True), else
        False: checks' rules are ANDed; load changes add up (their capacity then pinned)."""
        for i, op in enumerate(self.ops):
            if op.target != new.target or op.kind not in ("ConditionCheck", "Update"):
                continue
            if op.kind == new.kind == "Update" and op.ledger and new.ledger:
                self.ops[i] = _joined_holds(op, new)  # one user's holds in one case: one write of both
                return True
            if op.kind == new.kind == "Update" and (op.update is not None or new.update is not None):
                continue  # only load changes add up
            rules = [r for r in (op.condition, new.condition) if r is not None]
            joined = rules[0] if len(rules) == 1 else (rules[0] & rules[1] if rules else None)
            if op.kind == "ConditionCheck" and new.kind == "ConditionCheck":
                self.ops[i] = op._replace(condition=joined)
            elif op.kind == "Update" and new.kind == "Update":
                at = max(op.at or "", new.at or "") or None
                limit = op.limit if op.limit is not None else new.limit
                self.ops[i] = op._replace(condition=joined, delta=op.delta + new.delta, at=at, limit=limit, pinned=True)
            else:
                update = op if op.kind == "Update" else new
                self.ops[i] = update._replace(condition=joined)
            return True
        return False

    def commit(self) -> None:
        """Make every staged write in one transaction; AtomicRefused names the task whose condition
        failed, and the rule when the failed op has one (separation of duties: the case ledger)."""
        if not self.ops:
            return
        if len(self.ops) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"atomic: these tasks need {len(self.ops)} items in one transaction; DynamoDB "
                             f"takes {MAX_TRANSACTION_ITEMS} (a task is 2 or 3, plus one per queue it enters or "
                             f"leaves, plus one per user whose load it changes)")
        try:
            self.db.transact([op.render() for op in self.ops])
        except ConditionFailed as failed:
            if failed.index >= len(self.owners):
                raise AtomicRefused(None) from None
            explain = self.whys[failed.index]
            raise AtomicRefused(self.owners[failed.index], explain(failed.item) if explain else None,
                                failed.index) from None


def _joined_holds(op: Op, new: Op) -> Op:
    """Two changes of one request give one user tasks of one case: one Update of its ledger item
    adding both, on both conditions; SeparationRefused (naming the rule) when they are separated
    from each other, which the item's condition cannot see."""
    why = crossed(op.ledger, new.ledger[0])
    if why is not None:
        raise SeparationRefused(why)
    entries = (*op.ledger, *new.ledger)
    values: dict[str, Any] = {":ht": {"SS": sorted({e.task_id for e in entries})}}
    names, sets = {"#ht": "tasks"}, ["#ht :ht"]
    if activities := sorted({e.activity_id for e in entries if e.activity_id}):
        values[":ha"], names["#ha"] = {"SS": activities}, "activities"
        sets.append("#ha :ha")
    rules = [r for r in (op.condition, new.condition) if r is not None]
    condition = rules[0] & rules[1] if len(rules) == 2 else (rules[0] if rules else None)
    return op._replace(condition=condition, update=("ADD " + ", ".join(sets), names, values), ledger=entries)
