"""Step Functions callbacks in AWS (docs/workflows.md): the table's stream → a function
(`baton_functions.callbacks`) through an event source mapping that keeps each shard's order,
retries a failed record with backoff (its function reports the first record it could not
deliver), bisects a failing batch, and after that sends the record's description to a dead-letter
queue, whose depth has an alarm. Least privilege: `states:SendTaskSuccess`, `SendTaskFailure` and
`SendTaskHeartbeat` (task tokens name no resource, so `*`), and the table's items for the
delivery markers."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.function import depend_on_policy_only, python_function

SEND_TASK_ACTIONS = ["states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"]
RETRY_ATTEMPTS = 10  # then the dead-letter queue (about 10 tries over minutes, with the mapping's backoff)


class Callbacks(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table: ddb.ITableV2, layer: lambda_.ILayerVersion,
                 code: lambda_.Code, retention: logs.RetentionDays, snap_start: bool = False) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = sqs.Queue(self, "DeadLetters", encryption=sqs.QueueEncryption.SQS_MANAGED,
                                      enforce_ssl=True, retention_period=Duration.days(14))
        Validations.of(self.dead_letters).acknowledge(Acknowledgment(
            id="AwsSolutions-SQS3", reason="It is the callbacks' dead-letter queue (an event source mapping's "
                                           "on-failure destination; cdk-nag sees only queue redrives)."))
        log_group = logs.LogGroup(self, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.function, target = python_function(
            self, "Deliver", handler="baton_functions.callbacks.lambda_handler", code=code, layer=layer,
            log_group=log_group, memory_size=256, timeout=Duration.seconds(30), snap_start=snap_start,
            environment={"POWERTOOLS_SERVICE_NAME": "baton-callbacks"})
        self.function.add_to_role_policy(iam.PolicyStatement(actions=SEND_TASK_ACTIONS, resources=["*"]))
        Validations.of(self.function).acknowledge(Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="Step Functions task tokens name no resource: SendTask* can only be granted on '*'."))
        # the delivery markers: claimed, settled, or given back after a failed call
        table.grant(self.function, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
        depend_on_policy_only(self.function)
        assert isinstance(target, lambda_.Function | lambda_.Alias)
        target.add_event_source(sources.DynamoEventSource(
            table, starting_position=lambda_.StartingPosition.TRIM_HORIZON, batch_size=100,
            max_batching_window=Duration.seconds(1), retry_attempts=RETRY_ATTEMPTS, bisect_batch_on_error=True,
            report_batch_item_failures=True, parallelization_factor=1, max_record_age=Duration.days(1),
            on_failure=sources.SqsDlq(self.dead_letters),
            filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("MODIFY"),
                                                    "dynamodb": {"NewImage": {"callbackToken": {
                                                        "S": lambda_.FilterRule.exists()}}}})]))
        self.alarm = cw.Alarm(
            self, "DeadLettered", metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1)),
            threshold=0, comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD, evaluation_periods=1,
            alarm_description="A Step Functions callback could not be delivered after its retries: its waiting "
                              "execution will time out unless the record in the dead-letter queue is handled.")
