"""Settings read once from the environment (a pydantic model, cached)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field

MAX_BODY_BYTES = 64 * 1024
MAX_ID_LENGTH = 128


class Settings(BaseModel):
    # None in Lambda when TABLE_NAME is missing: the store then refuses to guess (see storage.dynamo.get_dynamo).
    table_name: str | None = Field(default="baton")
    dynamodb_endpoint: str | None = None
    region: str = "us-east-1"
    service: str = "baton"
    xray_subsegments: bool = False
    # How many partitions a tenant's task listing is spread over (write sharding): raise it for
    # tenants that change more than ~1,000 tasks a second; `baton migrate` re-keys after a change.
    list_shards: int = Field(default=32, ge=1, le=1000)
    # How many partitions each hour of the escalation timer index is spread over (write sharding
    # of timers due in the same hour); only ever raise it (a sweep reads shards 0..n-1).
    timer_shards: int = Field(default=32, ge=1, le=256)
    # How many tasks a sweep fires at once (each is its own conditional writes).
    sweep_workers: int = Field(default=8, ge=1, le=64)
    # Above 1, a bulk request reads its tasks side by side and writes each chunk while deciding the
    # next (tasks.bulk_chunks); 1: all in turn, as with moto, which is not thread-safe.
    bulk_workers: int = Field(default=16, ge=1, le=64)
    # How many of a routing batch's writes run at once (tasks.routing; 1 with moto).
    route_workers: int = Field(default=8, ge=1, le=64)
    # The per-deployment secret that keys the cursors' MACs (`BATON_CURSOR_KEY`: the CDK stack
    # generates one per deployment, `baton serve` one per state dir). None in Lambda when unset:
    # the cursors then refuse to work unkeyed (see platform.cursors).
    cursor_key: str | None = Field(default=None, repr=False)
    # The router function's offer timers (functions/router.py: a message delayed until an offer
    # expires); None outside AWS (`baton serve`'s router keeps them in memory).
    offer_queue_url: str | None = None


# Outside Lambda with no key set (tests, tools): a fixed one. Never used by a deployment (a
# function without `BATON_CURSOR_KEY` fails loudly) nor by `baton serve` (it sets its own).
DEVELOPMENT_CURSOR_KEY = "baton-development-cursor-key"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        # Outside Lambda (local tools, tests) the table defaults to "baton"; in Lambda it must be set.
        table_name=os.environ.get("TABLE_NAME") or (None if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else "baton"),
        dynamodb_endpoint=os.environ.get("DYNAMODB_ENDPOINT") or None,
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        service=os.environ.get("POWERTOOLS_SERVICE_NAME", "baton"),
        xray_subsegments=os.environ.get("BATON_XRAY_SUBSEGMENTS", "").lower() in ("1", "true", "on"),
        list_shards=int(os.environ.get("BATON_LIST_SHARDS") or 32),
        timer_shards=int(os.environ.get("BATON_TIMER_SHARDS") or 32),
        sweep_workers=int(os.environ.get("BATON_SWEEP_WORKERS") or 8),
        bulk_workers=int(os.environ.get("BATON_BULK_WORKERS") or 16),
        route_workers=int(os.environ.get("BATON_ROUTE_WORKERS") or 8),
        cursor_key=os.environ.get("BATON_CURSOR_KEY") or (
            None if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else DEVELOPMENT_CURSOR_KEY),
        offer_queue_url=os.environ.get("BATON_OFFER_QUEUE_URL") or None,
    )
