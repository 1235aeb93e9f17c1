"""Lambda SnapStart's two moments, for the modules that have work at them. A registry in the shared
kernel, so that the HTTP edge and storage (which do not know each other) can both take part;
`baton.edge.coldstart` registers the runtime's hooks that run it (only under SnapStart).

- Before the snapshot: work every environment restored from it would otherwise repeat (storage
  creates the DynamoDB client, the edge builds the resolver and takes a probe request through it).
- After each restore: what must differ between environments restored from one snapshot (the
  edge re-seeds `random`, whose state the snapshot holds)."""

from __future__ import annotations

from collections.abc import Callable

_before: list[Callable[[], None]] = []
_after: list[Callable[[], None]] = []


def before_snapshot(fn: Callable[[], None]) -> Callable[[], None]:
    """Run `fn` before a snapshot is taken (registering does nothing else: no I/O at import)."""
    _before.append(fn)
    return fn


def after_restore(fn: Callable[[], None]) -> Callable[[], None]:
    _after.append(fn)
    return fn


def run_before() -> None:
    for fn in list(_before):
        fn()


def run_after() -> None:
    for fn in list(_after):
        fn()
