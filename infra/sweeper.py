"""The escalation sweeper in AWS (docs/decisions.md, "Time: escalation ladders"): EventBridge
Scheduler invokes `baton_functions.sweeper` every minute; the function may read and change tasks
(the same conditional writes as the API: also a passed lease's takeover) and users' absences (one
ended at its `until`), and read the timer index, nothing else. Alarms: the
function failing, a sweep leaving timers it could not handle (`SweepFailures`), and steps firing
late or the sweeps stopping (`SweepLagSeconds` above three minutes, or missing for five)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as ddb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from infra.api import RETENTION
from infra.function import depend_on_policy_only, python_function

# What a sweep does to the table (tests/infra/test_sweeper.py replays sweeps that fire every action
# and checks they need no more): the timer Queries, the consistent reads of tasks and users, the
# task transactions (Put, Delete, ConditionCheck, Update), the checkpoint's GetItem and PutItem, and
# one DescribeTable (when the table was made: where its first sweep starts).
SWEEPER_ACTIONS = ("BatchGetItem", "ConditionCheckItem", "DeleteItem", "DescribeTable", "GetItem", "PutItem",
                   "Query", "UpdateItem")
SCHEDULE = "rate(1 minute)"
LAG_ALARM_SECONDS = 180
METRICS_NAMESPACE = "Baton"


class EscalationSweeper(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, table: ddb.ITableV2, layer: lambda_.ILayerVersion,
                 code: lambda_.Code, retention: logs.RetentionDays = RETENTION, snap_start: bool = False) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(self, "Logs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.function, self.target = python_function(
            self, "Function", handler="baton_functions.sweeper.lambda_handler", code=code, layer=layer,
            log_group=log_group, memory_size=512, timeout=Duration.seconds(55), snap_start=snap_start,
            environment={"TABLE_NAME": table.table_name, "POWERTOOLS_SERVICE_NAME": "baton-sweeper"})
        table.grant(self.function, *(f"dynamodb:{a}" for a in SWEEPER_ACTIONS))
        depend_on_policy_only(self.function)
        # One sweep at a time is enough (several would be safe: each firing is one conditional write).
        self.function.node.default_child.add_property_override(  # type: ignore[union-attr]
            "ReservedConcurrentExecutions", 1)

        role = iam.Role(self, "SchedulerRole", assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
                        description="EventBridge Scheduler: invoke the escalation sweeper, nothing else")
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                               resources=[self.target.function_arn]))
        self.schedule = scheduler.CfnSchedule(
            self, "Schedule", schedule_expression=SCHEDULE, state="ENABLED",
            description="Baton: fire the escalation steps that are due",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            target=scheduler.CfnSchedule.TargetProperty(
                arn=self.target.function_arn, role_arn=role.role_arn, input='{"source": "baton.scheduler"}',
                # the next minute's sweep retries whatever this one missed
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(maximum_retry_attempts=0,
                                                                       maximum_event_age_in_seconds=60)))

        def metric(name: str, statistic: str) -> cw.Metric:
            return cw.Metric(namespace=METRICS_NAMESPACE, metric_name=name, statistic=statistic,
                             dimensions_map={"service": "baton-sweeper"}, period=Duration.minutes(5))

        self.alarms = [
            cw.Alarm(self, "Errors", metric=self.function.metric_errors(period=Duration.minutes(5)), threshold=1,
                     evaluation_periods=1, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                     comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                     alarm_description="The escalation sweeper failed (its timers stay due; the next sweep retries)"),
            cw.Alarm(self, "Failures", metric=metric("SweepFailures", "Sum"), threshold=1, evaluation_periods=1,
                     treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                     comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                     alarm_description="A sweep could not fire some due escalation steps"),
            cw.Alarm(self, "Lag", metric=metric("SweepLagSeconds", "Maximum"), threshold=LAG_ALARM_SECONDS,
                     evaluation_periods=1, treat_missing_data=cw.TreatMissingData.BREACHING,
                     comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                     alarm_description="Escalation steps fire more than 3 minutes late, or no sweep reported"),
        ]
