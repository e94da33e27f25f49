"""The bridge's Lambda functions, each with its own role, log group and nothing more.

Every function runs the same code asset with a different handler. A role starts empty (no managed
policies): it may write its own log group, and each grant in ``stack.py`` names actions and
resources. Powertools writes metrics as embedded log records, so no CloudWatch API is granted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from waconnect_infra.asset import PYTHON_VERSION
from waconnect_infra.config import FunctionSizing

HANDLER_MODULE = "waconnect.entrypoints.lambda_handlers"
RUNTIME = lambda_.Runtime(f"python{PYTHON_VERSION}", lambda_.RuntimeFamily.PYTHON)


class BridgeFunction(Construct):
    """One function of the bridge: handler ``HANDLER_MODULE.<handler>`` on arm64."""

    def __init__(
        self,
        scope: Construct,
        name: str,
        *,
        handler: str,
        code: lambda_.Code,
        sizing: FunctionSizing,
        environment: Mapping[str, str],
        log_retention_days: int,
        failure_queue: sqs.IQueue | None = None,
    ) -> None:
        super().__init__(scope, name)
        self.log_group = logs.LogGroup(self, "Logs", removal_policy=RemovalPolicy.RETAIN)
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        cfn_log_group.retention_in_days = retention_days(log_retention_days)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"waconnect {handler}: only what this handler calls",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=f"{HANDLER_MODULE}.{handler}",
            code=code,
            memory_size=sizing.memory_mb,
            timeout=Duration.seconds(sizing.timeout_seconds),
            environment=dict(environment),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            dead_letter_queue=failure_queue,
            # Asynchronous invocations (SNS, EventBridge): Lambda retries twice, then the event
            # goes to the failure queue instead of being lost.
            retry_attempts=2 if failure_queue is not None else None,
        )

    def allow(self, actions: Sequence[str], resources: Sequence[str]) -> None:
        """Let the function call ``actions`` (each named) on ``resources`` (each named)."""
        for action in actions:
            if "*" in action:
                raise ValueError(f"a wildcard action is never granted: {action}")
        self.role.add_to_policy(
            iam.PolicyStatement(actions=list(actions), resources=list(resources))
        )


# The retention periods CloudWatch Logs accepts, in days.
_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                   2192, 2557, 2922, 3288, 3653)  # fmt: skip


def retention_days(days: int) -> int:
    """The shortest retention CloudWatch Logs accepts that keeps logs at least ``days``."""
    return next((allowed for allowed in _RETENTION_DAYS if allowed >= days), _RETENTION_DAYS[-1])
