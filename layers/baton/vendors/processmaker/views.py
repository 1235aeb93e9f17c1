"""Assignees and their pages as ProcessMaker's server shows them (`aas_*` fields)."""

from __future__ import annotations

from typing import Any

from baton.activities.domain import Assignee, Page


def assignee(a: Assignee) -> dict[str, str]:
    return {"aas_uid": a.uid, "aas_name": a.name, "aas_lastname": a.lastname, "aas_username": a.username,
            "aas_type": a.kind}


def assignees(page: Page) -> list[dict[str, str]]:
    return [assignee(a) for a in page.data]


def paged(page: Page) -> dict[str, Any]:
    """A page with its counts (the `/paged` routes)."""
    return {"total": page.total, "start": page.start, "limit": page.limit, "filter": page.filter,
            "data": assignees(page)}
