"""Task events in AWS: the table's stream → an EventBridge Pipe (filtered to history events,
enriched into CloudEvents by `baton_functions.task_events`, failures to a dead-letter queue) →
the Baton event bus, with an archive and an example rule (docs/events.md)."""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Duration, Names, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from baton.tasks.stream import PIPE_FILTERS, SKIPPED_METRIC
from infra.environment import FUNCTION_ENV
from infra.function import depend_on_policy_only, python_function

# The EventBridge envelope of every Baton event; the CloudEvent is its `detail`.
EVENT_SOURCE = "baton"
DETAIL_TYPE = "Baton task change"
ASSIGNMENT_TYPES = ["baton.task.claim", "baton.task.assign", "baton.task.reassign"]
ARCHIVE_DAYS = 365


def _queue(scope: Construct, name: str, **kwargs: object) -> sqs.Queue:
    return sqs.Queue(scope, name, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                     retention_period=Duration.days(14), **kwargs)  # type: ignore[arg-type]


class TaskEvents(Construct):
    """`bus_name` names the bus and its archive (default: unique to this construct)."""

    def __init__(self, scope: Construct, construct_id: str, *, table: ddb.ITableV2, layer: lambda_.ILayerVersion,
                 code: lambda_.Code, bus_name: str | None = None,
                 retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH, snap_start: bool = False) -> None:
        super().__init__(scope, construct_id)
        stream_arn = table.table_stream_arn
        assert stream_arn is not None, "the table needs its stream (infra/data.py)"
        # An archive's name is at most 48 characters; a bus's 256.
        bus_name = bus_name or Names.unique_resource_name(self, max_length=48, separator="-")
        self.bus = events.EventBus(self, "Bus", event_bus_name=bus_name)
        self.archive = self.bus.archive("Archive", archive_name=bus_name,
                                        description="Every Baton task event, for replay",
                                        event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
                                        retention=Duration.days(ARCHIVE_DAYS))
        self.dead_letters = _queue(self, "DeadLetters")
        Validations.of(self.dead_letters).acknowledge(Acknowledgment(
            id="AwsSolutions-SQS3", reason="It is the Pipe's dead-letter queue (cdk-nag sees only queue redrives)."))

        log_group = logs.LogGroup(self, "EnrichLogs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.enrich, enrich_target = python_function(
            self, "Enrich", handler="baton_functions.task_events.lambda_handler", code=code, layer=layer,
            log_group=log_group, memory_size=256, timeout=Duration.seconds(30), snap_start=snap_start,
            environment={"POWERTOOLS_SERVICE_NAME": "baton-events"})
        depend_on_policy_only(self.enrich)

        role = iam.Role(self, "PipeRole", assumed_by=iam.ServicePrincipal("pipes.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                     "dynamodb:ListStreams"], resources=[stream_arn]))
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                               resources=[enrich_target.function_arn]))
        self.bus.grant_put_events_to(role)
        self.dead_letters.grant_send_messages(role)

        self.pipe = pipes.CfnPipe(
            self, "Pipe", role_arn=role.role_arn, source=stream_arn, enrichment=enrich_target.function_arn,
            target=self.bus.event_bus_arn, description="Baton history events as CloudEvents",
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="TRIM_HORIZON", batch_size=100,
                    maximum_batching_window_in_seconds=1, maximum_retry_attempts=10,
                    maximum_record_age_in_seconds=86_400, parallelization_factor=1,
                    on_partial_batch_item_failure="AUTOMATIC_BISECT",
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(arn=self.dead_letters.queue_arn)),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps(p)) for p in PIPE_FILTERS])),
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    source=EVENT_SOURCE, detail_type=DETAIL_TYPE)))
        # The pipe needs its policy in place before it starts; the role is already a GetAtt dependency.
        self.pipe.add_override("DependsOn", [Stack.of(self).get_logical_id(
            role.node.find_child("DefaultPolicy").node.default_child)])  # type: ignore[arg-type]

        # The example rule: assignments (claim, assign, reassign) into a queue a notifier can read.
        self.assignments = _queue(self, "AssignmentsQueue",
                                  dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5,
                                                                        queue=_queue(self, "AssignmentsDeadLetters")))
        self.rule = events.Rule(
            self, "AssignmentsRule", event_bus=self.bus, description="Example: every assignment of a task",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail={"type": ASSIGNMENT_TYPES}),
            targets=[targets.SqsQueue(self.assignments)])

        cw.Alarm(self, "DeadLettersAlarm", metric=self.dead_letters.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="Task events the Pipe could not deliver (see docs/events.md)")
        # Stream records the enrichment skipped because they cannot become events (written past
        # the API's checks): never fatal for the feed, but each one is an event nobody got.
        cw.Alarm(self, "SkippedRecordsAlarm", metric=cw.Metric(
            namespace=FUNCTION_ENV["POWERTOOLS_METRICS_NAMESPACE"], metric_name=SKIPPED_METRIC,
            statistic=cw.Stats.SUM, period=Duration.minutes(5)), threshold=1, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="Stream records skipped by the events' enrichment: they could not become "
                              "events (see docs/events.md)")
