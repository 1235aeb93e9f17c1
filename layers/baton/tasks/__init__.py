"""Tasks: their rules, repository, service, bulk actions, leases and events."""

from baton import snapshot


@snapshot.before_snapshot
def _prime_imports() -> None:
    """Under SnapStart the snapshot also holds the repositories the task service imports on first
    use (`TaskService.directory`, `.activities`): no restored environment imports them."""
    import baton.activities.repository  # noqa: F401
    import baton.directory.repository  # noqa: F401
