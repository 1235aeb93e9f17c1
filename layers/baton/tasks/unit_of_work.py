"""Units of work: where the task repository's writes go. A write is a list of `Op` values (a Put,
a Delete or a ConditionCheck, each with its condition as a `platform.conditions` rule, rendered
only when the transaction is made), owned by one task.

- `UnitOfWork`: each write is its own transaction, made at once (every request but a bulk
  atomic one). A refused condition raises `ConditionFailed` at the write, for the repository to
  turn into an outcome.
- `Batch`: the writes of a bulk atomic request are staged and made together by `commit`, in ONE
  transaction: all or none. Two checks on one item (DynamoDB takes one operation per item) are
  one check of both rules. A refused condition raises `AtomicRefused` naming the task it belongs
  to. (cosmicpython's unit of work, in Baton's shape: the repository writes through it and
  never knows which one it has.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple

from baton.errors import BadRequest
from baton.platform.conditions import Rule
from baton.platform.dynamo import MAX_TRANSACTION_ITEMS, ConditionFailed, Dynamo
from baton.tasks.domain import AtomicRefused


class Op(NamedTuple):
    """One operation of a transaction: `target` is the item (Put) or the key (Delete,
    ConditionCheck), in DynamoDB's attribute format; `condition` what it asserts."""

    kind: Literal["Put", "Delete", "ConditionCheck"]
    target: dict[str, Any]
    condition: Rule | None = None
    params: Mapping[str, Any] = {}

    def render(self) -> dict[str, Any]:
        body: dict[str, Any] = {("Item" if self.kind == "Put" else "Key"): self.target}
        if self.condition is not None:
            body.update(self.condition.condition("c", **self.params).kwargs())
        return {self.kind: body}


class UnitOfWork:
    """Each write its own transaction, made at once."""

    def __init__(self, db: Dynamo) -> None:
        self.db = db

    def write(self, ops: Sequence[Op], owner: str) -> None:
        """Make the write now; ConditionFailed (with the failing op's index) when refused."""
        self.db.transact([op.render() for op in ops])


class Batch(UnitOfWork):
    """The writes of one bulk atomic request, staged, then made in ONE transaction (`commit`)."""

    def __init__(self, db: Dynamo) -> None:
        super().__init__(db)
        self.ops: list[Op] = []
        self.owners: list[str] = []  # the task each op belongs to

    def write(self, ops: Sequence[Op], owner: str) -> None:
        for op in ops:
            if op.kind == "ConditionCheck" and self._merge(op):
                continue
            self.ops.append(op)
            self.owners.append(owner)

    def _merge(self, check: Op) -> bool:
        """A second check of the same item: its rule joins the first one's (True), else False."""
        for i, op in enumerate(self.ops):
            if op.kind == "ConditionCheck" and op.target == check.target and op.condition and check.condition:
                self.ops[i] = op._replace(condition=op.condition & check.condition)
                return True
        return False

    def commit(self) -> None:
        """Make every staged write in one transaction; AtomicRefused names the task whose condition
        failed."""
        if not self.ops:
            return
        if len(self.ops) > MAX_TRANSACTION_ITEMS:
            raise BadRequest(f"atomic: these tasks need {len(self.ops)} items in one transaction; DynamoDB "
                             f"takes {MAX_TRANSACTION_ITEMS} (a task is 2 or 3, plus one per queue it enters or "
                             f"leaves)")
        try:
            self.db.transact([op.render() for op in self.ops])
        except ConditionFailed as failed:
            raise AtomicRefused(self.owners[failed.index] if failed.index < len(self.owners) else None) from None
