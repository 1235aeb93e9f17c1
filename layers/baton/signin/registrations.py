"""Where a client-credentials app client's tenant and roles are registered: one directory read."""

from __future__ import annotations

from baton.directory.domain import ClientRegistration


def registration(client_id: str) -> ClientRegistration | None:
    from baton.directory.repository import DirectoryRepository
    from baton.storage.dynamo import get_dynamo

    return DirectoryRepository(get_dynamo()).client_registration(client_id)
