"""Step Functions callbacks in AWS: a function fed by the table's stream (an event source mapping
with retries, bisection and a dead-letter queue, infra/), delivering each callback of
`baton.tasks.callbacks` once in effect. A failure reports the first record it could not deliver
(ReportBatchItemFailures), so the stream retries from there and keeps each task's order."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from baton.edge import coldstart
from baton.edge.observability import logger
from baton.storage.dynamo import get_dynamo
from baton.tasks.callbacks import Deliverer, callbacks_of


@lru_cache(maxsize=1)
def states_client() -> Any:
    import boto3

    return boto3.client("stepfunctions")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        records = event.get("Records") or []
        deliverer = Deliverer(get_dynamo(), states_client())
        for i, callback in callbacks_of(records):
            try:
                outcome = deliverer.deliver(callback)
            except (BotoCoreError, ClientError) as err:
                logger.warning("callback failed; the stream retries it", extra={
                    "taskId": callback.task_id, "kind": callback.kind, "error": type(err).__name__})
                return {"batchItemFailures": [{"itemIdentifier": records[i]["dynamodb"]["SequenceNumber"]}]}
            logger.info("callback", extra={"taskId": callback.task_id, "kind": callback.kind, "outcome": outcome})
        return {"batchItemFailures": []}
    finally:
        coldstart.resume()
