"""The EventBridge Pipe's enrichment: a batch of DynamoDB stream records in, the CloudEvents of
the history events among them out (each becomes one event on the Baton bus). The mapping is
`baton.tasks.stream.cloud_events`, the same `baton serve` uses for GET /local/events."""

from __future__ import annotations

from typing import Any

from baton.edge import coldstart
from baton.tasks.stream import cloud_events


def lambda_handler(event: list[dict[str, Any]], context: Any) -> list[dict[str, Any]]:
    try:
        return cloud_events(event)
    finally:
        coldstart.resume()  # prepare() paused the collector for the cold start
