"""The ledger's vocabulary: the stable reason codes of the contract (why a change happened) and
the actions an event may name (what happened). Features that add a way of changing a task add
its reason here (a constant, or a function for a parameterized code) and its action to ACTIONS,
so the tenant audit's `action` filter and the reason check know them. Pure, no I/O."""

from __future__ import annotations

import re

REQUEST = "request"  # a person or a system asked for it (every route today)
LEASE_EXPIRED = "lease-expired"  # a claim's lease passed and the next change (or the sweep) took the task over
OFFER_EXPIRED = "offer-expired"
OFFER_REJECTED = "offer-rejected"
OFFBOARDING = "offboarding"
ABSENCE_ENDED = "absence-ended"  # an absence's `until` passed and the sweep ended it (directory.audit)

ROUTING_STRATEGIES = ("pull", "round-robin", "least-loaded", "longest-idle")
ABSENCE_MODES = ("redirect", "share")

_PLAIN = frozenset({REQUEST, LEASE_EXPIRED, OFFER_EXPIRED, OFFER_REJECTED, OFFBOARDING, ABSENCE_ENDED})
_STEP_ID = re.compile(r"^[^\s]{1,128}$")


def routing(strategy: str) -> str:
    """`routing:<strategy>`: the router gave or offered the task."""
    if strategy not in ROUTING_STRATEGIES:
        raise ValueError(f"unknown routing strategy {strategy!r}")
    return f"routing:{strategy}"


def escalation(step_id: str) -> str:
    """`escalation:<step id>`: an escalation step fired."""
    if not _STEP_ID.match(step_id):
        raise ValueError(f"bad escalation step id {step_id!r}")
    return f"escalation:{step_id}"


def absence(mode: str) -> str:
    """`absence:<mode>`: work went to an absent user's delegate."""
    if mode not in ABSENCE_MODES:
        raise ValueError(f"unknown absence mode {mode!r}")
    return f"absence:{mode}"


def is_reason(code: str) -> bool:
    """Whether `code` is one of the contract's reason codes."""
    if code in _PLAIN:
        return True
    kind, _, arg = code.partition(":")
    if kind == "routing":
        return arg in ROUTING_STRATEGIES
    if kind == "absence":
        return arg in ABSENCE_MODES
    return kind == "escalation" and bool(_STEP_ID.match(arg))


# Task actions (a task event's `action`, its CloudEvent type `baton.task.<action>`), then the
# directory changes that share the ledger (ProcessMaker's activity assignee writes).
TASK_ACTIONS: tuple[str, ...] = ("create", "claim", "release", "assign", "unassign", "reassign", "complete",
                                 "abandon", "heartbeat", "lease-expired", "update", "delegate", "resolve",
                                 "offer", "reject")
DIRECTORY_ACTIONS: tuple[str, ...] = ("assignee-add", "assignee-remove", "absence-set", "absence-end")
ACTIONS: tuple[str, ...] = TASK_ACTIONS + DIRECTORY_ACTIONS
