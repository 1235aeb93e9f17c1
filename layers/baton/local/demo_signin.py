"""Local only: sign in to the inbox as a demo user. Not in the route table and never deployed
(in AWS the inbox signs in through the user pool). The local server asks `answer()` first for
every request; it answers `/local/demo-users` and `/local/demo-token` and nothing else.

A token minted here is what `baton token` prints for the same user, with the roles that
`demo.ROLES` gives them. Only loopback `Host` names are served, so a web page elsewhere cannot
mint tokens through the browser by rebinding its DNS name to 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

from baton.local import demo, tokens

USERS_PATH = "/local/demo-users"
TOKEN_PATH = "/local/demo-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TTL = 3600

Answer = tuple[int, dict[str, str], bytes]


def _json(status: int, payload: dict[str, Any]) -> Answer:
    return status, {"Content-Type": "application/json", "Cache-Control": "no-store"}, json.dumps(payload).encode()


def directory() -> dict[str, Any]:
    groups = {user.id: [g.id for g in demo.GROUPS if user.id in g.members] for user in demo.USERS}
    return {"tenant": demo.TENANT, "users": [
        {"id": u.id, "name": f"{u.firstname} {u.lastname}", "roles": demo.ROLES.get(u.id, []), "groups": groups[u.id]}
        for u in demo.USERS]}


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def answer(method: str, path: str, host: str | None, body: bytes, key: bytes) -> Answer | None:
    """The answer to a demo sign-in request, or None when the request is not one."""
    if path not in (USERS_PATH, TOKEN_PATH):
        return None
    if _host_name((host or "").lower()) not in LOOPBACK:
        return _json(403, {"message": "The demo sign-in answers on a loopback address only"})
    if path == USERS_PATH:
        return _json(200, directory()) if method in ("GET", "HEAD") else _json(405, {"message": "Method Not Allowed"})
    if method != "POST":
        return _json(405, {"message": "Method Not Allowed"})
    try:
        user = json.loads(body or b"{}").get("user")
    except (ValueError, AttributeError):
        user = None
    known = {u.id: u for u in demo.USERS}
    if not isinstance(user, str) or user not in known:
        return _json(400, {"message": f"Choose one of the demo users: {', '.join(known)}"})
    token = tokens.issue(key, user=user, tenant=demo.TENANT, roles=demo.ROLES.get(user, []),
                         username=known[user].username, ttl=TTL)
    return _json(200, {"token": token, "tokenType": "Bearer", "expiresIn": TTL, "user": user, "tenant": demo.TENANT})
