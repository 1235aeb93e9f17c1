"""The browser pages the docs function serves: the inbox (plain HTML, JavaScript and CSS in this
folder, no build step) and Swagger UI, whose two asset files come from the `swagger-ui-py` package
(the Lambda layer carries just those two; `infra/layer.py`). Nothing is loaded from another host."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
INBOX = ("inbox.js", "inbox.css", "history.js")
SWAGGER_OWN = ("swagger-init.js",)
SWAGGER_PACKAGE = ("swagger-ui-bundle.js", "swagger-ui.css")  # from swagger-ui-py's static/
# The pages' own policy: scripts, styles and API calls from this origin only; the inbox may also
# talk to its user pool's hosted UI token endpoint (AWS sign-in): that one origin, never every
# `*.amazoncognito.com` (any pool's, an attacker's too). `csp()` puts it in.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# The pages' addresses (task ids in the inbox's) are nobody else's business.
REFERRER_POLICY = "no-referrer"
_ORIGIN = re.compile(r"https://[a-z0-9.-]+(:[0-9]{1,5})?")


def csp() -> str:
    """The pages' Content-Security-Policy, with the sign-in origin of this deployment, if any."""
    url = os.environ.get("BATON_SIGNIN_URL") or ""
    parts = urlsplit(url.strip())
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if not _ORIGIN.fullmatch(origin):
        return CSP
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {origin}")


@dataclass(frozen=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


@lru_cache(maxsize=16)
def _load(path: Path) -> Asset:
    body = path.read_bytes()
    return Asset(body, TYPES[path.suffix], '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def swagger_ui_static() -> Path:
    """swagger-ui-py's `static/` folder, found without importing the package (its `__init__` pulls
    in jinja2; the layer ships the folder alone, as a namespace package)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("swagger-ui-py is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def page(name: str) -> Asset:
    """One of this folder's pages: `inbox.html` or `swagger.html`."""
    return _load(HERE / name)


def inbox_asset(name: str) -> Asset | None:
    return _load(HERE / name) if name in INBOX else None


def swagger_asset(name: str) -> Asset | None:
    if name in SWAGGER_OWN:
        return _load(HERE / name)
    if name in SWAGGER_PACKAGE:
        return _load(swagger_ui_static() / name)
    return None


def sign_in_config() -> dict[str, Any]:
    """What the inbox needs to sign in through the user pool's hosted UI (set on the docs function
    by the stack); empty where there is none (locally the inbox uses the demo sign-in)."""
    url, client = os.environ.get("BATON_SIGNIN_URL"), os.environ.get("BATON_SIGNIN_CLIENT_ID")
    return {"cognito": {"url": url.rstrip("/"), "clientId": client} if url and client else None}
