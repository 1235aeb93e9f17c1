"""A Baton function: Python 3.13 on arm64, X-Ray, the shared environment; optionally with SnapStart."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.environment import FUNCTION_ENV


def python_function(scope: Construct, construct_id: str, *, handler: str, code: lambda_.Code,
                    layer: lambda_.ILayerVersion, log_group: logs.ILogGroup, memory_size: int, timeout: Duration,
                    environment: dict[str, str], snap_start: bool) -> tuple[lambda_.Function, lambda_.IFunction]:
    """A Baton function (Python 3.13, arm64, X-Ray, the shared environment) and what invokes it: the
    function itself, or with SnapStart its alias `live` on the current published version (SnapStart
    applies to published versions only; the layer's cold-start module primes before the snapshot
    and re-seeds after each restore)."""
    fn = lambda_.Function(
        scope, construct_id, runtime=lambda_.Runtime.PYTHON_3_13, architecture=lambda_.Architecture.ARM_64,
        handler=handler, code=code, layers=[layer], memory_size=memory_size, timeout=timeout,
        tracing=lambda_.Tracing.ACTIVE, log_group=log_group, environment={**FUNCTION_ENV, **environment},
        snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None)
    if not snap_start:
        return fn, fn
    return fn, lambda_.Alias(scope, f"{construct_id}Live", alias_name="live", version=fn.current_version)


def depend_on_policy_only(function: lambda_.Function) -> None:
    """The role is already a dependency through GetAtt; keep only the policy one (cfn-lint W3005)."""
    policy = function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
    cfn_function = function.node.default_child
    assert isinstance(cfn_function, lambda_.CfnFunction) and policy is not None
    cfn_function.add_override("DependsOn", [Stack.of(function).get_logical_id(policy)])  # type: ignore[arg-type]
