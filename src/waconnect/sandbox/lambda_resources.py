"""The AWS resources of the serverless deployment, made in moto for the local Lambda harness.

Two SQS FIFO queues (inbound, outbound), each with a FIFO dead-letter queue and a redrive policy,
the standard queue an EventBridge rule fills with Transcribe's job state changes (with its
dead-letter queue), and the three DynamoDB tables of the bridge's state: what the CDK stack
creates on AWS, named uniquely per run so several runs can share one moto server.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from waconnect.adapters.aws.dynamodb import (
    ledger_table_definition,
    message_log_table_definition,
    session_table_definition,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType


@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str
    max_receive_count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    inbound: Queue
    outbound: Queue
    transcribed: Queue
    sessions_table: str
    ledger_table: str
    message_log_table: str

    @property
    def state(self) -> str:
        """The ``WACONNECT_STATE`` value naming the three tables."""
        return f"dynamodb:{self.sessions_table},{self.ledger_table},{self.message_log_table}"


def create_resources(
    sqs: SQSClient,
    dynamodb: DynamoDBClient,
    *,
    max_receive_count: int,
    visibility_timeout: int,
    prefix: str = "",
) -> Resources:
    """Create the queues and tables; ``prefix`` (default: random) keeps runs apart."""
    prefix = prefix or f"waconnect-{uuid.uuid4().hex[:8]}"
    tables = (f"{prefix}-sessions", f"{prefix}-ledger", f"{prefix}-messages")
    for name, definition in zip(
        tables,
        (session_table_definition, ledger_table_definition, message_log_table_definition),
        strict=True,
    ):
        dynamodb.create_table(**definition(name))
    return Resources(
        inbound=_fifo_with_dead_letters(
            sqs, f"{prefix}-inbound", max_receive_count, visibility_timeout
        ),
        outbound=_fifo_with_dead_letters(
            sqs, f"{prefix}-outbound", max_receive_count, visibility_timeout
        ),
        transcribed=_standard_with_dead_letters(
            sqs, f"{prefix}-transcribed", max_receive_count, visibility_timeout
        ),
        sessions_table=tables[0],
        ledger_table=tables[1],
        message_log_table=tables[2],
    )


def _fifo_with_dead_letters(
    sqs: SQSClient, name: str, max_receive_count: int, visibility_timeout: int
) -> Queue:
    return _with_dead_letters(sqs, name, max_receive_count, visibility_timeout, fifo=True)


def _standard_with_dead_letters(
    sqs: SQSClient, name: str, max_receive_count: int, visibility_timeout: int
) -> Queue:
    return _with_dead_letters(sqs, name, max_receive_count, visibility_timeout, fifo=False)


def _with_dead_letters(
    sqs: SQSClient, name: str, max_receive_count: int, visibility_timeout: int, *, fifo: bool
) -> Queue:
    """A queue and its dead-letter queue (of the same kind), redriving after the receives."""
    kind: dict[QueueAttributeNameType, str] = (
        {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    )
    suffix = ".fifo" if fifo else ""
    dead_url = sqs.create_queue(QueueName=f"{name}-dlq{suffix}", Attributes=kind)["QueueUrl"]
    dead_arn = _arn(sqs, dead_url)
    url = sqs.create_queue(
        QueueName=f"{name}{suffix}",
        Attributes={
            **kind,
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dead_arn, "maxReceiveCount": max_receive_count}
            ),
        },
    )["QueueUrl"]
    return Queue(
        url=url,
        arn=_arn(sqs, url),
        dead_letter_url=dead_url,
        dead_letter_arn=dead_arn,
        max_receive_count=max_receive_count,
    )


def _arn(sqs: SQSClient, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]
