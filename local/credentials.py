"""The local sign-in backend: users, passwords and client credentials kept in the state dir
(`credentials.json`, mode 0600, scrypt hashes only), tokens from the local issuer (tokens.py).

`baton serve` creates the demo credentials on first start: every demo user signs in with a
password, and the clients `itential-demo` and `processmaker-demo` with a secret. Both are derived
from a random seed in the state dir (so they can be printed on every start without being stored in
clear); `baton credentials user|client` adds others. A credential belongs to one tenant, and its
token is always of that tenant."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baton.signin.grants import Grant, SignInFailed
from baton_local import tokens

FILE = "credentials.json"
TTL = 3600
DEMO_TENANT = "workflow"
DEMO_USERS = {"alice": ["operations"], "bob": ["operations"], "carol": ["engineering"], "dave": ["engineering"],
              "admin": ["admin", "PM_FACTORY"]}
DEMO_CLIENTS = {"itential-demo": ["operations"], "processmaker-demo": ["PM_FACTORY"]}
_lock = threading.Lock()


def _hash(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Hashed against when the username or client id is unknown, so that an unknown name costs the
# same scrypt work as a known one: the answer's timing does not tell which names exist.
_DUMMY = "scrypt$" + "00" * 16 + "$" + "00" * 32


def _matches(secret: str, stored: str) -> bool:
    try:
        _, salt, _ = stored.split("$")
        return hmac.compare_digest(_hash(secret, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


SEED_FILE = "signin-demo.seed"


def seed(state_dir: Path) -> bytes:
    """The state dir's random seed of the demo secrets (created on first use, mode 0600)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / SEED_FILE
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return bytes.fromhex(path.read_text().strip())


def demo_secret(key: bytes, name: str) -> str:
    """A demo password or client secret, derived from the state dir's seed."""
    return hmac.new(key, f"baton-demo:{name}".encode(), hashlib.sha256).hexdigest()[:20]


@dataclass
class Store:
    """The file's content: `users` by username and `clients` by client id, each with `tenant`,
    `roles`, `sub` (the user id its tokens carry) and a `secret` hash."""

    path: Path
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> Store:
        path = state_dir / FILE
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text())
        return cls(path, data.get("users", {}), data.get("clients", {}))

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"users": self.users, "clients": self.clients}, indent=1, sort_keys=True))
        tmp.chmod(0o600)
        tmp.replace(self.path)

    def add_user(self, username: str, password: str, tenant: str, roles: list[str], sub: str | None = None) -> None:
        self.users[username] = {"tenant": tenant, "roles": roles, "sub": sub or username, "secret": _hash(password)}

    def add_client(self, client_id: str, secret: str, tenant: str, roles: list[str]) -> None:
        # Like a Cognito client-credentials token, a client's tokens carry the client id as `sub`.
        self.clients[client_id] = {"tenant": tenant, "roles": roles, "sub": client_id, "secret": _hash(secret)}


def ensure_demo(state_dir: Path) -> dict[str, str]:
    """Create the demo credentials unless the file exists; return what to print (name → secret)."""
    key = seed(state_dir)
    with _lock:
        store = Store.load(state_dir)
        if not store.path.exists():
            for user, roles in DEMO_USERS.items():
                store.add_user(user, demo_secret(key, user), DEMO_TENANT, roles)
            for client_id, roles in DEMO_CLIENTS.items():
                store.add_client(client_id, demo_secret(key, client_id), DEMO_TENANT, roles)
            store.save()
    shown = {u: demo_secret(key, u) for u in DEMO_USERS if u in store.users}
    shown.update({c: demo_secret(key, c) for c in DEMO_CLIENTS if c in store.clients})
    return shown


def describe(shown: dict[str, str]) -> str:
    """The demo credentials, for `baton serve`'s banner."""
    users = ", ".join(f"{u}/{p}" for u, p in shown.items() if u in DEMO_USERS)
    clients = ", ".join(f"{c}:{p}" for c, p in shown.items() if c in DEMO_CLIENTS)
    return (f"passwords (tenant {DEMO_TENANT}) {users or 'none'}; clients {clients or 'none'} "
            f"(kept in {FILE} in the state dir)")


class LocalBackend:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def _issue(self, entry: dict[str, Any], username: str) -> Grant:
        key = tokens.load_key(self.state_dir)
        token = tokens.issue(key, user=entry["sub"], tenant=entry["tenant"], roles=list(entry["roles"]),
                             username=username, ttl=TTL)
        return Grant(token, TTL, entry["tenant"])

    def client_credentials(self, client_id: str, client_secret: str) -> Grant:
        entry = Store.load(self.state_dir).clients.get(client_id)
        if not _matches(client_secret, entry["secret"] if entry else _DUMMY) or entry is None:
            raise SignInFailed("Invalid client credentials", reason="invalid_client")
        return self._issue(entry, client_id)

    def password(self, username: str, password: str, client: tuple[str, str] | None) -> Grant:
        store = Store.load(self.state_dir)
        if client is not None:
            registered = store.clients.get(client[0])
            if not _matches(client[1], registered["secret"] if registered else _DUMMY) or registered is None:
                raise SignInFailed("Invalid client credentials", reason="invalid_client")
        entry = store.users.get(username)
        if not _matches(password, entry["secret"] if entry else _DUMMY) or entry is None:
            raise SignInFailed("Invalid username and password combination")
        return self._issue(entry, username)
