"""Offers (API.md "People"): a group whose routing has `offerSeconds` offers its free tasks
instead of assigning them. An offer reserves the task for one member (`offeredTo`, until
`offerExpiresAt`): it is in that member's queue only, hidden from the group's queue and from
claim-next, and counts in the member's load (a reserved slot, so the member is never offered more
than its capacity and accepting never fails on it). The member accepts (a claim: the slot
becomes the holding) or rejects (reason `offer-rejected`); an offer that expires is made to the
next eligible member (reason `offer-expired`), who has not been offered it yet until everyone
has (`offerTried`). Each is one change of the one algorithm (tasks.algorithm): one conditional
transaction that moves the loads of the member let go and of the member offered."""

from __future__ import annotations

from baton import clock
from baton.domain import require_role
from baton.errors import Conflict, Forbidden
from baton.tasks import eligibility, reasons
from baton.tasks.algorithm import Action, State
from baton.tasks.change import Change, Seen
from baton.tasks.domain import Task
from baton.tasks.eligibility import Handover
from baton.tasks.rules import require_manual, require_open
from baton.tasks.service import TaskService

OFFER, REJECT = "offer", "reject"


class OfferService:
    def __init__(self, service: TaskService) -> None:
        self.service = service
        self.caller = service.caller

    def offer(self, task_id: str, user: str, seconds: int, reason: str, first: State | None = None) -> Task:
        """Offer a free task to `user` (who must be eligible to hold it, as for an assign) for
        `seconds`; an expired offer to someone else is ended by the same write (`offer-expired`)."""
        service = self.service

        def decide(seen: Seen) -> Change | None:
            task = seen.view
            require_open(task)
            require_manual(task)
            now = clock.stamp()
            if task.assignee is not None:
                raise Conflict(f"Task {task.id} is already assigned to {task.assignee}",
                               reason="txnAlreadyAssigned", holder=task.assignee)
            if task.offeredTo == user and task.offer_live(now):
                return None
            if task.offer_live(now):
                raise Conflict(f"Task {task.id} is offered to {task.offeredTo}", reason="offered")
            grant = eligibility.decide(Handover(task, self.caller, eligibility.ASSIGN, (user,), seen.groups,
                                                None, service.tasks.people))
            if grant is None:
                return None
            if grant.holder != user:  # absent (tasks.standins): the router offers it to someone else
                raise Conflict(f"User {user} is absent: the task is not offered to them", reason="absent")
            tried = list(task.offerTried)
            why = reason
            if task.offeredTo is not None:  # the last offer expired: that member had its turn
                tried = list(dict.fromkeys([*tried, task.offeredTo]))
                why = reasons.OFFER_EXPIRED
            after = service.next(task, offeredTo=user, offerExpiresAt=clock.after(seconds), offerTried=tried)
            event = service.event(task, OFFER, task.offeredTo, user, why)
            event.reason = why
            return seen.change(after, event, grant.members)
        return service.apply(task_id, Action(OFFER, decide, (user,)), None, first)[0]

    def withdraw(self, task_id: str) -> Task:
        """An expired offer nobody else can take ends: the task is back in its groups' queues."""
        service = self.service

        def decide(seen: Seen) -> Change | None:
            task = seen.view
            if task.offeredTo is None or task.offer_live(clock.stamp()) or task.assignee is not None:
                return None
            after = service.next(task, offerTried=list(dict.fromkeys([*task.offerTried, task.offeredTo])))
            event = service.event(task, OFFER, task.offeredTo, None, reasons.OFFER_EXPIRED)
            event.reason = reasons.OFFER_EXPIRED
            return seen.change(after, event)
        return service.apply(task_id, Action(OFFER, decide), None)[0]

    def accept(self, task_id: str) -> Task:
        """The member a task is offered to takes it: a claim."""
        require_role(self.caller)
        task = self.service.get(task_id)
        if task.offeredTo != self.caller.user_id:
            raise Conflict(f"Task {task_id} is not offered to {self.caller.username}", reason="notOffered")
        return self.service.claim(task_id, fast_path=False)

    def reject(self, task_id: str) -> Task:
        """The member a task is offered to lets it go: the router offers it to the next one."""
        require_role(self.caller)
        service, me = self.service, self.caller.user_id

        def decide(seen: Seen) -> Change:
            task = seen.view
            require_open(task)
            if task.offeredTo != me:
                raise Conflict(f"Task {task.id} is not offered to {self.caller.username}", reason="notOffered")
            if task.assignee is not None:
                raise Forbidden(f"Task {task.id} is held by {task.assignee}", reason="accessDenied")
            after = service.next(task, offerTried=list(dict.fromkeys([*task.offerTried, me])))
            event = service.event(task, REJECT, me, None, reasons.OFFER_REJECTED)
            event.reason = reasons.OFFER_REJECTED
            return seen.change(after, event)
        return service.apply(task_id, Action(REJECT, decide), None)[0]
