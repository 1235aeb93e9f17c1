"""Baton: the shared package of the task-assignment service (domain, rules, store, auth)."""
