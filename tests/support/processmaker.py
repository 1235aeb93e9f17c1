"""ProcessMaker test helpers: the test activity's routes, calls as root, and directories in bulk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.activities.service import AssigneeService
from baton.directory.domain import Group, User
from baton.directory.repository import DirectoryRepository
from baton.domain import Caller
from baton.storage.dynamo import get_dynamo
from tests.support import TENANT, call

BASE = f"/api/1.0/{TENANT}/project/prj/activity/act"
SUB = f"/api/1.0/{TENANT}/project/prj/activity/sub"
PM = ("PM_FACTORY",)


def pm(method: str, path: str, body: Any = None, roles: tuple[str, ...] = ("operations",), **kw: Any) -> Any:
    return call(method, path, body, user="root", roles=roles, **kw)


def assign(activity: str, uid: str, kind: str = "user") -> None:
    admin = Caller(user_id="root", username="root", tenant=TENANT, roles=frozenset({"admin"}))
    AssigneeService(get_dynamo(), admin, TENANT, "prj", activity).add(uid, kind)


def parallel(fn: Any, items: list[Any]) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(fn, items))


def bulk_directory(n_users: int, groups: dict[str, list[str]]) -> None:
    """Users u0000... (half lastname Bulk) and the groups, written straight through the repository."""
    store = DirectoryRepository(get_dynamo())
    parallel(lambda i: store.put_user(TENANT, User(id=f"u{i:04d}", username=f"user{i:04d}",
                                                   firstname=f"First{i:04d}", lastname="Bulk" if i % 2 else "Mass")),
             list(range(n_users)))
    for gid, members in groups.items():
        for start in range(0, len(members), 90):
            old = members[:start]
            store.put_group(TENANT, Group(id=gid, name=f"Team {gid}", members=members[:start + 90]), old,
                            start // 90)
