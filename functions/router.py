"""The router in AWS (API.md "People"): a function fed by the table's stream that pushes the tasks
of groups with a routing strategy to their members (baton.tasks.routing, the same Router
`baton serve` runs off its stream reader). Routing decides on the state it reads, so a record
delivered twice costs a read; a failure reports the first record it could not route
(ReportBatchItemFailures) so the stream retries from there. Its CDK wiring (an event source
mapping like the callbacks' one, infra/callbacks.py) and a scheduled sweep of expired offers are
not built yet (docs/decisions.md, "People")."""
# ruff: noqa: E402 (the cold-start measures start before the imports below)

from __future__ import annotations

from baton.edge import coldstart  # isort: skip

coldstart.prepare()

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from baton.edge.observability import logger
from baton.storage.dynamo import get_dynamo
from baton.tasks.routing import Router
from baton.tasks.stream import routing_triggers


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        records = event.get("Records") or []
        router = Router(get_dynamo())
        for i, record in enumerate(records):
            try:
                router.handle(routing_triggers([record]))
            except (BotoCoreError, ClientError) as err:
                logger.warning("routing failed; the stream retries it", extra={"error": type(err).__name__})
                return {"batchItemFailures": [{"itemIdentifier": records[i]["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}
    finally:
        coldstart.resume()
