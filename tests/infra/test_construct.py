"""The `Baton` construct (infra/construct.py) in another CDK app: one stack embedding it twice, one
with the defaults (a Cognito user pool) and one with its own props (an existing issuer, a table
name, a log retention, SnapStart), and the example workflow (infra/workflow.py) on the first.
Synthesized once: no name clashes, each instance complete and wired to its own table, cdk-nag and
cfn-lint clean; SnapStart on published versions, every function invoked through its `live`
alias; the workflow's human step waits for its task token. The project's own app
(test_infra.py) uses the same construct in three stacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from baton.routes import FAMILIES, ROUTES
from infra.app import build_all, props_from_context
from infra.construct import Baton, BatonProps
from infra.workflow import ExampleWorkflow

pytestmark = pytest.mark.xdist_group("cdk")  # the worker that synthesizes the project's app; the layer is built once


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Template]:
    out = tmp_path_factory.mktemp("host.out")
    app = App(outdir=str(out))
    stack = Stack(app, "Host")
    tasks = Baton(stack, "Tasks")
    ExampleWorkflow(stack, "Workflow", baton=tasks)
    Baton(stack, "Approvals", BatonProps(
        jwt_issuer="https://idp.example.com/", jwt_audience=["approvals"], table_name="approvals-tasks",
        log_retention=logs.RetentionDays.THREE_MONTHS, snap_start=True))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()
    return out, Template.from_stack(stack)


def of(template: Template, kind: str, prefix: str = "") -> dict[str, Any]:
    return {k: v for k, v in template.find_resources(kind).items() if k.startswith(prefix)}


def refs(value: Any) -> set[str]:
    """The logical ids a property value refers to (Ref, Fn::GetAtt)."""
    text = json.dumps(value)
    found = set()
    for part in text.split('"Ref": "')[1:]:
        found.add(part.split('"')[0])
    for part in text.split('"Fn::GetAtt": ["')[1:]:
        found.add(part.split('"')[0])
    return found


def test_two_instances_in_one_stack_without_clashes(host: tuple[Path, Template]) -> None:
    _, template = host
    tables = of(template, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == 2
    assert [t["Properties"].get("TableName") for t in tables.values()].count("approvals-tasks") == 1
    # Everything named is named apart: event buses, archives; the one user pool's domain is unique.
    for kind, prop in (("AWS::Events::EventBus", "Name"), ("AWS::Events::Archive", "ArchiveName")):
        names = [r["Properties"][prop] for r in of(template, kind).values()]
        assert len(names) == 2 and len(set(names)) == 2, names
    template.resource_count_is("AWS::Cognito::UserPool", 1)  # the second brings its own issuer
    domain = next(iter(of(template, "AWS::Cognito::UserPoolDomain").values()))["Properties"]["Domain"]
    assert "AWS::StackId" in json.dumps(domain) and "baton-" in json.dumps(domain)
    assert Counter(json.dumps(r["Properties"].get("DashboardName")) for r in
                   of(template, "AWS::CloudWatch::Dashboard").values())["null"] == 2  # CloudFormation names them
    # Each instance: one function per family (+ the trigger where there is a pool, the events' enrichment,
    # the callbacks, the escalation sweeper, the router), each reading its own table.
    for prefix, extra in (("Tasks", 5), ("Approvals", 4)):
        functions = of(template, "AWS::Lambda::Function", prefix)
        assert len(functions) == len(FAMILIES) + extra, prefix
        table = next(iter(of(template, "AWS::DynamoDB::GlobalTable", prefix)))
        for fn in functions.values():
            variables = fn["Properties"]["Environment"]["Variables"]
            assert "TABLE_NAME" not in variables or refs(variables["TABLE_NAME"]) == {table}
        routes = of(template, "AWS::ApiGatewayV2::Route", prefix)
        assert {r["Properties"]["RouteKey"] for r in routes.values()} == {f"{r.method} {r.path}" for r in ROUTES}
    authorizers = {k: v["Properties"]["JwtConfiguration"] for k, v in
                   of(template, "AWS::ApiGatewayV2::Authorizer").items()}
    approvals = next(v for k, v in authorizers.items() if k.startswith("Approvals"))
    assert approvals == {"Issuer": "https://idp.example.com/", "Audience": ["approvals"]}
    retention = {k: v["Properties"]["RetentionInDays"] for k, v in of(template, "AWS::Logs::LogGroup").items()}
    assert {v for k, v in retention.items() if k.startswith("Approvals")} == {90}
    assert {v for k, v in retention.items() if k.startswith("Tasks")} == {30}


def test_snap_start_on_published_versions_invoked_through_the_alias(host: tuple[Path, Template]) -> None:
    _, template = host
    snapped = of(template, "AWS::Lambda::Function", "Approvals")
    for fn in snapped.values():
        assert fn["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert fn["Properties"]["Runtime"] == "python3.13"
    assert all("SnapStart" not in fn["Properties"] for fn in of(template, "AWS::Lambda::Function", "Tasks").values())
    aliases = of(template, "AWS::Lambda::Alias", "Approvals")
    versions = of(template, "AWS::Lambda::Version", "Approvals")
    assert {a["Properties"]["Name"] for a in aliases.values()} == {"live"}
    by_function = {next(iter(refs(a["Properties"]["FunctionName"]))): a for a in aliases.values()}
    assert set(by_function) == set(snapped)  # one alias per function, on that function's published version
    for name, alias in by_function.items():
        version = next(iter(refs(alias["Properties"]["FunctionVersion"])))
        assert refs(versions[version]["Properties"]["FunctionName"]) == {name}
    # Whatever invokes them goes through the alias: API integrations and their permissions, the pipe.
    for kind, prop in (("AWS::ApiGatewayV2::Integration", "IntegrationUri"),
                       ("AWS::Lambda::Permission", "FunctionName"), ("AWS::Pipes::Pipe", "Enrichment")):
        found = of(template, kind, "Approvals")
        assert found, kind
        for resource in found.values():
            assert refs(resource["Properties"][prop]) <= set(aliases), (kind, resource["Properties"][prop])
    [schedule] = of(template, "AWS::Scheduler::Schedule", "Approvals").values()  # the escalation sweeper's
    assert refs(schedule["Properties"]["Target"]["Arn"]) <= set(aliases)
    pipe_role = json.dumps(next(p for k, p in of(template, "AWS::IAM::Policy", "Approvals").items()
                                if "PipeRole" in k)["Properties"]["PolicyDocument"])
    assert refs(json.loads(pipe_role)) & set(aliases)


def test_the_project_app_takes_snap_start_from_context() -> None:
    app = App(context={"snapStart": "true"})
    assert props_from_context(app, Stack(app, "A"), Stack(app, "E")).snap_start is True
    plain = App()
    props = props_from_context(plain, Stack(plain, "A"), Stack(plain, "E"))
    assert props.snap_start is False and props.event_bus_name == "E-baton" and props.dashboard_name == "A-baton"


def test_cdk_nag_and_cfn_lint_are_clean(host: tuple[Path, Template]) -> None:
    out, _ = host
    report = json.loads((out / "validation-report.json").read_text())
    assert report["pluginReports"] == [] or all(not p["violations"] for p in report["pluginReports"])
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or "cfn-lint"
    result = subprocess.run([cfn_lint, str(out / "Host.template.json")], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_the_example_workflow_waits_for_a_baton_task(host: tuple[Path, Template]) -> None:
    _, template = host
    machines = of(template, "AWS::StepFunctions::StateMachine", "Workflow")
    assert len(machines) == 1
    machine = next(iter(machines.values()))["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False  # task fields may be personal
    parts = machine["DefinitionString"]["Fn::Join"][1]  # tokens (ARNs) stand inside strings: any text will do
    definition = json.loads("".join(p if isinstance(p, str) else "0" for p in parts))
    ask = definition["States"]["AskAPerson"]
    assert ask["Resource"].endswith(":states:::lambda:invoke.waitForTaskToken")
    assert ask["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert ask["Catch"][0]["ErrorEquals"] == ["Baton.TaskAbandoned"] and ask["TimeoutSeconds"] > 0
    assert definition["States"]["Decided"]["Choices"][0] == {
        "Variable": "$.decision.outcome", "StringEquals": "approved", "Next": "Approved"}
    # Its Lambda calls the Tasks instance's API, signing in with that instance's client-credentials client.
    fn = next(f["Properties"] for f in of(template, "AWS::Lambda::Function", "Workflow").values())
    variables = fn["Environment"]["Variables"]
    assert next(iter(refs(variables["BATON_API_URL"]))).startswith("TasksHttpApi")
    client = next(iter(refs(variables["BATON_CLIENT_ID"])))
    assert "ClientCredentialsClient" in client
    assert of(template, "AWS::Cognito::UserPoolClient")[client]["Properties"]["AllowedOAuthFlows"] == [
        "client_credentials"]
    policy = json.dumps(next(p for k, p in of(template, "AWS::IAM::Policy", "WorkflowCreateTask").items()))
    assert "cognito-idp:DescribeUserPoolClient" in policy and "dynamodb:" not in policy


def test_the_project_app_adds_the_example_workflow_stack_on_request() -> None:
    plain = build_all(App())[0]
    assert plain.node.try_find_child("BatonExampleWorkflow") is None
    app = build_all(App(context={"exampleWorkflow": "true"}))[0]
    stack = app.node.try_find_child("BatonExampleWorkflow")
    assert isinstance(stack, Stack)
    assert any(isinstance(c, ExampleWorkflow) for c in stack.node.children)
