"""The router in AWS (API.md "People"; docs/decisions.md, "People"): the table's stream → a
function (`baton_functions.router`, the same routing code `baton serve`'s stream reader runs)
through an event source mapping filtered to the records that may need routing
(`baton.tasks.stream.ROUTER_FILTERS`). Like the callbacks' mapping (infra/callbacks.py) it keeps
each shard's order, retries a failed record with backoff (the function reports the first record
it could not route), bisects a failing batch, then sends the record's description to a
dead-letter queue; poison records are skipped and counted by the function (`SkippedRouterRecords`).
No batching window: a task is routed as soon as its record is read.

Offers expire through a queue: the function sends each offer it sees as a message delayed until
the offer ends, and the same function consumes that queue (failed messages are retried, then
dead-lettered to the same queue). Least privilege: the table's reads and the task transactions'
writes that routing makes (ROUTER_ACTIONS, checked by tests/infra/test_router.py against real
routing), sending to the offer queue; the mappings grant the stream's and the queue's reads.
Alarms: the function failing, the stream's iterator age (routing falling behind), poison
records, and anything dead-lettered."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.tasks.stream import ROUTER_FILTERS
from infra.api import RETENTION
from infra.function import depend_on_policy_only, python_function

# What routing does to the table: consistent reads of tasks, users and groups (GetItem,
# BatchGetItem), a queue's head and a user's groups (Query), the assign/offer transactions
# (Put, Update, Delete, ConditionCheck) and round-robin's last pick (UpdateItem).
ROUTER_ACTIONS = ("BatchGetItem", "ConditionCheckItem", "DeleteItem", "GetItem", "PutItem", "Query", "UpdateItem")
RETRY_ATTEMPTS = 10
ITERATOR_AGE_ALARM_MS = 60_000  # routing a minute behind the table
TIMEOUT = Duration.seconds(60)


class TaskRouter(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table: ddb.ITableV2, layer: lambda_.ILayerVersion,
                 code: lambda_.Code, retention: logs.RetentionDays = RETENTION, snap_start: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(self, "DeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED,
                                      enforce_ssl=True, retention_period=Duration.days(14))
        Validations.of(self.dead_letters).acknowledge(Acknowledgment(
            id="AwsSolutions-SQS3", reason="It is the router's dead-letter queue (the stream mapping's on-failure "
                                           "destination and the offer queue's redrive target)."))
        # A message's visibility outlasts one invocation (AWS: at least the function's timeout, 6x advised).
        self.offers = sqs.Queue(self, "OfferTimers", encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                                visibility_timeout=Duration.seconds(TIMEOUT.to_seconds() * 6),
                                dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=5))
        log_group = logs.LogGroup(self, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.function, target = python_function(
            self, "Function", handler="baton_functions.router.lambda_handler", code=code, layer=layer,
            log_group=log_group, memory_size=512, timeout=TIMEOUT, snap_start=snap_start,
            environment={"TABLE_NAME": table.table_name, "POWERTOOLS_SERVICE_NAME": "baton-router",
                         "BATON_OFFER_QUEUE_URL": self.offers.queue_url})
        table.grant(self.function, *(f"dynamodb:{a}" for a in ROUTER_ACTIONS))
        self.offers.grant_send_messages(self.function)
        depend_on_policy_only(self.function)
        assert isinstance(target, lambda_.Function | lambda_.Alias)
        target.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100,
            retry_attempts=RETRY_ATTEMPTS, bisect_batch_on_error=True, report_batch_item_failures=True,
            parallelization_factor=1, max_record_age=Duration.days(1), on_failure=sources.SqsDlq(self.dead_letters),
            filters=[lambda_.FilterCriteria.filter(pattern) for pattern in ROUTER_FILTERS]))
        target.add_event_source(sources.SqsEventSource(self.offers, batch_size=10, report_batch_item_failures=True))

        self.alarms = [
            cw.Alarm(self, "Errors", metric=self.function.metric_errors(period=Duration.minutes(5)), threshold=1,
                     evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                     comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                     alarm_description="The router failed (the stream retries its records; tasks wait in their "
                                       "queues meanwhile)"),
            cw.Alarm(self, "IteratorAge", metric=cw.Metric(
                namespace="AWS/Lambda", metric_name="IteratorAge", statistic="Maximum", period=Duration.minutes(1),
                dimensions_map={"FunctionName": self.function.function_name}),
                threshold=ITERATOR_AGE_ALARM_MS, evaluation_periods=5,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                alarm_description="Routing is more than a minute behind the table's changes"),
            cw.Alarm(self, "Skipped", metric=cw.Metric(
                namespace="Baton", metric_name="SkippedRouterRecords", statistic="Sum", period=Duration.minutes(5)),
                threshold=1, evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                alarm_description="The router skipped stream records or offer timers it could not read"),
            cw.Alarm(self, "DeadLettered", metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)),
                threshold=0, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluation_periods=1,
                alarm_description="Stream records or offer timers the router could not handle after their retries: "
                                  "their tasks wait in the queue until the next change routes them"),
        ]
