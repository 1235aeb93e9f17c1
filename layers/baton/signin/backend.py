"""The sign-in backend in use: the one handed in (the local server's issuer), else the one the
environment configures (the stack's user pool, or none)."""

from __future__ import annotations

import os
from functools import lru_cache

from baton.signin.grants import Backend, Disabled

_given: list[Backend] = []  # a backend handed in by the process that runs the functions


def use_backend(given: Backend | None) -> None:
    """Serve sign-ins from `given` (the local server's issuer); None: back to the environment's."""
    _given[:] = [given] if given is not None else []


def backend() -> Backend:
    """The backend handed in with `use_backend`, else the environment's."""
    return _given[0] if _given else _configured()


@lru_cache(maxsize=1)
def _configured() -> Backend:
    """Chosen on first use from the environment (nothing happens at import): the stack's user
    pool where the CDK stack configured one, else none."""
    if "SIGNIN_DOMAIN" not in os.environ:
        return Disabled()
    from baton.signin.cognito import from_environment

    return from_environment()
