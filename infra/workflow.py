"""The example workflow (`-c exampleWorkflow=true`, docs/workflows.md): a Step Functions state
machine whose human step creates a Baton task through Baton's API with the execution's task token
(`lambda:invoke.waitForTaskToken`, infra/example_workflow/create_task.py) and waits for Baton to
end it; then it branches on the task's `outcome`:

    AskAPerson (waits) ──approved──▶ Approved (succeed)
        │ otherwise ──▶ NotApproved (fail, error Baton.NotApproved)
        └ Baton.TaskAbandoned ──▶ Abandoned (fail); no answer in `timeout` ──▶ States.Timeout

It signs in with the Baton construct's client-credentials app client (the pool's; its tokens are
in the authorizer's audience), which must be registered in Baton's table with a tenant and a role
that may create tasks (README, "An example workflow")."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, CfnOutput, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.api import ACKNOWLEDGED
from infra.construct import Baton
from infra.function import depend_on_policy_only

HANDLER_DIR = Path(__file__).resolve().parent / "example_workflow"
NOT_APPROVED = "Baton.NotApproved"


class ExampleWorkflow(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, baton: Baton, tenant_hint: str = "workflow",
                 timeout: Duration = Duration.days(7)) -> None:
        super().__init__(scope, construct_id)
        signin = baton.identity.signin
        if signin is None:
            raise ValueError("the example workflow signs in with the Baton construct's user pool "
                             "(not available with an existing identity provider)")
        retention = baton.props.log_retention
        client = signin.machine_client
        self.create_task = lambda_.Function(
            self, "CreateTask", runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64,
            handler="create_task.lambda_handler", code=lambda_.Code.from_asset(str(HANDLER_DIR)),
            memory_size=256, timeout=Duration.seconds(30), tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(self, "CreateTaskLogs", retention=retention,
                                    removal_policy=RemovalPolicy.DESTROY),
            environment={"BATON_API_URL": baton.api.api_endpoint, "USER_POOL_ID": signin.pool.user_pool_id,
                         "BATON_CLIENT_ID": client.user_pool_client_id})
        self.create_task.add_to_role_policy(iam.PolicyStatement(actions=["cognito-idp:DescribeUserPoolClient"],
                                                                resources=[signin.pool.user_pool_arn]))
        depend_on_policy_only(self.create_task)

        ask = tasks.LambdaInvoke(
            self, "AskAPerson", lambda_function=self.create_task,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=sfn.TaskInput.from_object({
                "taskToken": sfn.JsonPath.task_token,
                "execution": sfn.JsonPath.string_at("$$.Execution.Id"),
                "state": sfn.JsonPath.string_at("$$.State.Name"),
                "task": sfn.JsonPath.object_at("$.task")}),
            result_path="$.decision", task_timeout=sfn.Timeout.duration(timeout),
            comment="Creates a Baton task carrying this state's task token, then waits for Baton to end it")
        approved = sfn.Succeed(self, "Approved")
        not_approved = sfn.Fail(self, "NotApproved", error=NOT_APPROVED, cause="The person did not approve")
        abandoned = sfn.Fail(self, "Abandoned", error="Baton.TaskAbandoned", cause="The Baton task was abandoned")
        ask.add_catch(abandoned, errors=["Baton.TaskAbandoned"], result_path="$.error")
        decide = sfn.Choice(self, "Decided").when(
            sfn.Condition.string_equals("$.decision.outcome", "approved"), approved).otherwise(not_approved)
        log_group = logs.LogGroup(self, "StateMachineLogs", retention=retention, removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", definition_body=sfn.DefinitionBody.from_chainable(ask.next(decide)),
            tracing_enabled=True, timeout=timeout.plus(Duration.hours(1)),
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment=f"Example: a human step through Baton (tenant {tenant_hint})")
        # The role is already a dependency through GetAtt; keep only the policy one (cfn-lint W3005).
        policy = self.state_machine.role.node.find_child("DefaultPolicy").node.default_child
        self.state_machine.node.default_child.add_override(  # type: ignore[union-attr]
            "DependsOn", [Stack.of(self).get_logical_id(policy)])  # type: ignore[arg-type]
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        CfnOutput(self, "BatonClientId", value=client.user_pool_client_id,
                  description="Register it in Baton's table (tenant, roles) before starting an execution")
        self._acknowledge()

    def _acknowledge(self) -> None:
        stack = Stack.of(self)
        fn = stack.resolve(stack.get_logical_id(self.create_task.node.default_child))  # type: ignore[arg-type]
        for rule, reason in [*ACKNOWLEDGED, (
                f"AwsSolutions-IAM5[Resource::<{fn}.Arn>:*]",
                "Step Functions' Lambda task may invoke the function's versions and aliases (CDK's grant).")]:
            Validations.of(self).acknowledge(Acknowledgment(id=rule, reason=reason))
