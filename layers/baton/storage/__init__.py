"""Storage: what every feature's repository stands on, knowing DynamoDB but no feature and no
HTTP: the table handle and codec (`dynamo`), the key scheme (`keys`), page cursors (`cursors`) and
declared conditions (`conditions`). See docs/architecture.md."""

from baton import snapshot


@snapshot.before_snapshot
def _prime_client() -> None:
    """Under SnapStart the DynamoDB client (botocore's service model, endpoint rules, credential
    chain) is built before the snapshot, not by each restored environment's first request. No
    request is sent; a function without a table (the docs, the events' enrichment) builds none."""
    from baton.settings import get_settings
    from baton.storage.dynamo import get_dynamo

    if get_settings().table_name is not None:
        get_dynamo()
