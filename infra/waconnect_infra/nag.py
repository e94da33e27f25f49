"""cdk-nag acknowledgements: every finding the stack accepts, with the reason it is right.

The AwsSolutions pack fails the synth on any finding not acknowledged here, so a new wildcard or
a managed policy cannot slip in unexplained. Each entry names the exact finding (the rule and
the resource pattern), never a whole rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import IConstruct

from waconnect_infra.functions import BridgeFunction
from waconnect_infra.stack import TRANSCRIPTION_JOB_PREFIX, WaconnectStack

MEDIA_OBJECTS = (
    "Media keys are made at run time (one per file) under the bridge's prefix; the grant is "
    "limited to that prefix of the bridge's own bucket."
)
CONTACTS = (
    "Contact ids are made by StartChatContact at run time; the grant is limited to the contacts "
    "of the configured Connect instance."
)
TRANSCRIPTION_JOBS = (
    "Job names are made at run time (one per voice note); the grant is limited to the jobs "
    f"named with the bridge's prefix {TRANSCRIPTION_JOB_PREFIX!r}."
)
PROVIDER_LOGS = (
    "The function CDK runs for the event-destination custom resource writes its own logs with "
    "AWSLambdaBasicExecutionRole (log groups and streams only); it runs during deployments only."
)


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """One accepted finding on one construct."""

    path: str
    finding: str
    reason: str


def _token(stack: Stack, construct: IConstruct, attribute: str) -> str:
    element = construct.node.default_child
    assert isinstance(element, CfnElement)
    return f"<{stack.get_logical_id(element)}.{attribute}>"


def acknowledgements(stack: WaconnectStack) -> list[Acknowledged]:
    """The findings the stack accepts, each with its reason."""
    result: list[Acknowledged] = []
    media = f"Resource::{_token(stack, stack.bucket, 'Arn')}/{stack.config.media_prefix}*"
    instance = (
        "Resource::arn:<AWS::Partition>:connect:<AWS::Region>:<AWS::AccountId>:instance/"
        f"{stack.config.connect_instance_id}/contact/*"
    )
    jobs = (
        "Resource::arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:"
        f"transcription-job/{TRANSCRIPTION_JOB_PREFIX}*"
    )
    media_users: list[BridgeFunction] = [stack.inbound, stack.outbound]
    if stack.transcribed is not None:
        media_users.append(stack.transcribed)
        for fn in (stack.inbound, stack.transcribed):
            result.append(_on_policy(fn, jobs, TRANSCRIPTION_JOBS))
    for fn in media_users:
        result.append(_on_policy(fn, media, MEDIA_OBJECTS))
    result.append(_on_policy(stack.inbound, instance, CONTACTS))
    provider = stack.node.try_find_child(PROVIDER_ID)
    if provider is not None:
        role = provider.node.find_child("ServiceRole")
        result.append(
            Acknowledged(
                path=role.node.path,
                finding="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "service-role/AWSLambdaBasicExecutionRole]",
                reason=PROVIDER_LOGS,
            )
        )
    return result


# The construct id AwsCustomResource gives its shared provider function.
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


def _on_policy(fn: BridgeFunction, resource: str, reason: str) -> Acknowledged:
    policy = fn.role.node.find_child("DefaultPolicy")
    return Acknowledged(
        path=policy.node.path, finding=f"AwsSolutions-IAM5[{resource}]", reason=reason
    )


def suppress_justified(stack: WaconnectStack) -> None:
    by_path = {c.node.path: c for c in stack.node.find_all()}
    for item in acknowledgements(stack):
        Validations.of(by_path[item.path]).acknowledge(
            Acknowledgment(id=item.finding, reason=item.reason)
        )
