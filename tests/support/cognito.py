"""Stand-ins for the Cognito side of sign-in: an unsigned JWT as the pool would issue it, and a
cognito-idp client that never leaves the machine (botocore's stubber or a loopback endpoint)."""

from __future__ import annotations

import base64
import json
from typing import Any

from botocore.session import Session


def jwt(claims: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


def cognito() -> Any:
    return Session().create_client("cognito-idp", region_name="us-east-1", aws_access_key_id="x",
                                   aws_secret_access_key="x")
