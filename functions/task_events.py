"""The EventBridge Pipe's enrichment: a batch of DynamoDB stream records in, the CloudEvents of
the history events among them out (each becomes one event on the Baton bus). The mapping is
`baton.tasks.stream.publishable_events`, the same `baton serve` uses for GET /local/events. A
record that cannot become an event is skipped, never fatal (a failed batch would be retried,
then bisected, holding up the shard behind it); each skip is counted in the CloudWatch metric
`SkippedStreamRecords`, which an alarm watches (infra/events.py)."""

from __future__ import annotations

from typing import Any

from baton.edge import coldstart
from baton.edge.observability import emit_count
from baton.tasks.stream import SKIPPED_METRIC, publishable_events


def lambda_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    try:
        events, skipped = publishable_events(event)
        if skipped:
            emit_count(SKIPPED_METRIC, skipped)
        return events
    finally:
        coldstart.resume()  # prepare() paused the collector for the cold start
