"""The data: the one DynamoDB table, defined from `baton.table` (shared with the local
server and the tests, so the two can never drift)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from constructs import Construct

from baton.table import INDEXES, KEYS, PK, SK, STREAM_VIEW


def _attr(name: str) -> ddb.Attribute:
    return ddb.Attribute(name=name, type=ddb.AttributeType.STRING if KEYS[name] == "S" else ddb.AttributeType.NUMBER)


def task_table(scope: Construct, construct_id: str, *, table_name: str | None = None,
               removal_policy: RemovalPolicy = RemovalPolicy.RETAIN) -> ddb.TableV2:
    """Baton's one table: on demand, point-in-time recovery, deletion protection, encrypted, retained
    (by default), with the stream the task events come from (infra/events.py)."""
    return ddb.TableV2(
        scope, construct_id, table_name=table_name,
        partition_key=_attr(PK), sort_key=_attr(SK),
        billing=ddb.Billing.on_demand(),
        point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True),
        deletion_protection=True,
        removal_policy=removal_policy,
        encryption=ddb.TableEncryptionV2.aws_managed_key(),
        dynamo_stream=ddb.StreamViewType(STREAM_VIEW),  # the source of the task events (infra/events.py)
        global_secondary_indexes=[
            ddb.GlobalSecondaryIndexPropsV2(index_name=name, partition_key=_attr(h), sort_key=_attr(r),
                                            projection_type=ddb.ProjectionType.ALL)
            for name, (h, r) in INDEXES.items()
        ],
    )
