"""Local only: sign in to the inbox as a demo user. Not in the route table and never deployed
(in AWS the inbox signs in through the user pool). The local server registers the two
endpoints below in its `LOCAL_ROUTES`:

- `GET /local/demo-users`: the demo users with their roles and directory groups;
- `POST /local/demo-token` `{"user": "alice"}`: a token for that demo user, the one
  `baton token` prints for the same user with the roles `demo.ROLES` gives them.

Only loopback `Host` names are served, so a web page elsewhere cannot mint tokens through a
browser by rebinding its DNS name to 127.0.0.1."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from baton_local import demo, tokens

if TYPE_CHECKING:
    from baton_local.server import LocalApi

USERS_PATH = "/local/demo-users"
TOKEN_PATH = "/local/demo-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
TTL = 3600


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), status, content_type="application/json",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def directory() -> dict[str, Any]:
    groups = {user.id: [g.id for g in demo.GROUPS if user.id in g.members] for user in demo.USERS}
    return {"tenant": demo.TENANT, "users": [
        {"id": u.id, "name": f"{u.firstname} {u.lastname}", "roles": demo.ROLES.get(u.id, []), "groups": groups[u.id]}
        for u in demo.USERS]}


def loopback(host: str | None) -> bool:
    host = (host or "").lower()
    name = host[: host.find("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0] if host.count(":") == 1 \
        else host
    return name in LOOPBACK


def _refused(request: Request) -> Response | None:
    if not loopback(request.headers.get("Host")):
        return _json(403, {"message": "The demo sign-in answers on a loopback address only"})
    return None


def users_endpoint(api: LocalApi, request: Request) -> Response:
    return _refused(request) or _json(200, directory())


def mint(key: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """(status, answer) for a token request's body."""
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, RecursionError):  # deep nesting too: a bad request, not a fault
        parsed = None
    user = parsed.get("user") if isinstance(parsed, dict) else None
    known = {u.id: u for u in demo.USERS}
    if not isinstance(user, str) or user not in known:
        return 400, {"message": f"Choose one of the demo users: {', '.join(known)}"}
    token = tokens.issue(key, user=user, tenant=demo.TENANT, roles=demo.ROLES.get(user, []),
                         username=known[user].username, ttl=TTL)
    return 200, {"token": token, "tokenType": "Bearer", "expiresIn": TTL, "user": user, "tenant": demo.TENANT}


def token_endpoint(api: LocalApi, request: Request) -> Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    status, answer = mint(api.key, request.environ.get("baton.body", b""))  # the server has read it
    return _json(status, answer)
