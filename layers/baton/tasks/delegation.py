"""Delegation with return (Camunda 7's delegate/resolve; API.md "Absence, delegation, offboarding"):
the holder hands a task to someone and stays its owner; the delegate works on it and resolves it
back (or releases it: back to the owner, not to the queue); only the owner (or admin) completes
it (tasks.rules.check_finish). Both are hand-overs decided by tasks.eligibility (paths DELEGATE
and RESOLVE), so every rule about who may hold a task applies to them."""

from __future__ import annotations

from baton.domain import require_role
from baton.tasks import eligibility
from baton.tasks.algorithm import Action, Changes
from baton.tasks.change import Change, Seen
from baton.tasks.domain import Task
from baton.tasks.eligibility import Handover


class Delegation(Changes):
    def delegate(self, task_id: str, user_id: str, comment: str | None = None, if_match: int | None = None) -> Task:
        """The holder (or admin) delegates the task to `user_id`; the holder becomes its owner."""
        require_role(self.caller)

        def decide(seen: Seen) -> Change | None:
            task = seen.view
            grant = eligibility.decide(Handover(task, self.caller, eligibility.DELEGATE, (user_id,), seen.groups,
                                                comment, self.read_stand_ins((user_id,))))
            if grant is None:
                return None
            after = self.next(task, assignee=grant.holder, owner=task.assignee, delegationState="pending")
            return seen.change(after, self.event(task, "delegate", task.assignee, grant.holder, comment, None, grant),
                               grant.members, grant.ledger)
        return self.apply(task_id, Action("delegate", decide, (user_id,)), if_match)[0]

    def resolve(self, task_id: str, comment: str | None = None, if_match: int | None = None) -> Task:
        """The delegate (or admin) gives the task back to its owner (`delegationState` resolved)."""
        require_role(self.caller)
        return self.apply(task_id, Action("resolve", lambda seen: self.resolution(seen, "resolve", comment)),
                          if_match)[0]

    def resolution(self, seen: Seen, verb: str, comment: str | None = None) -> Change | None:
        """The change that gives a delegated task back to its owner (resolve, a delegate's release)."""
        task = seen.view
        owner = task.owner or ""
        grant = eligibility.decide(Handover(task, self.caller, eligibility.RESOLVE, (owner,), seen.groups, comment,
                                            self.read_stand_ins((owner,))))
        if grant is None:
            return None
        after = self.next(task, assignee=grant.holder, delegationState="resolved")
        return seen.change(after, self.event(task, verb, task.assignee, grant.holder, comment, None, grant),
                           grant.members, grant.ledger)
