"""Tasks: their rules, repository, service, bulk actions, leases and events."""
