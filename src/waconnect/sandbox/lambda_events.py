"""What Lambda hands a function and what the harness keeps of each call.

The events (an SNS notification, received SQS messages), the context object, and the record of
invocations, EMF metrics and log lines the tests and users of the harness read.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from waconnect.sandbox import defaults
from waconnect.wire.sns import build_http_envelope, dumps

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from waconnect.sandbox.lambda_resources import Queue


class InvocationKilled(BaseException):
    """The function's container died mid-invocation (a timeout, out of memory, a deploy).

    A BaseException, as a SIGKILL is: nothing in the function may catch it and carry on.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class Invocation:
    """One call of a handler: which, how many records, which failed, and any error."""

    function: str
    records: int
    failed: tuple[str, ...] = ()
    error: str = ""


@dataclass
class LambdaContext:
    """The parts of Lambda's context object the handlers read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


logger = logging.getLogger(__name__)

_POLL_PAUSE = 0.02


class FifoEventSource:
    """Lambda's event source mapping of one FIFO queue: receive a batch (SQS holds back message
    groups in flight), invoke, delete what the partial batch response does not name; the rest
    (or all, when the invocation failed) comes back after its visibility timeout.

    It remembers the records a completed invocation handed back ("waiting": the function keeps
    them for a later try), so the harness can tell them from records still being worked on and
    hand them in again at once (``run_due``). A crashed invocation's records are not waiting.
    """

    def __init__(
        self,
        *,
        sqs: SQSClient,
        queue: Queue,
        batch_size: int,
        invoke: Callable[..., dict[str, Any] | None],
        busy: Callable[[], AbstractContextManager[None]],
        stopping: threading.Event,
    ) -> None:
        self._sqs = sqs
        self._queue = queue
        self._batch_size = batch_size
        self._invoke = invoke
        self._busy = busy
        self._stopping = stopping
        self._lock = threading.Lock()
        # message id -> receipt handle of each record handed back by a completed invocation
        self._waiting: dict[str, str] = {}
        # Receives are numbered as they start; the number of the last one if it found nothing.
        self._receives = 0
        self._found_nothing = -1

    @property
    def queue(self) -> Queue:
        return self._queue

    @property
    def receives(self) -> int:
        """How many receives have started (a mark for ``settled``)."""
        with self._lock:
            return self._receives

    def settled(self, *, visible: int, hidden: int, delayed: int, since: int) -> bool:
        """Whether the queue holds only kept records, given its counts taken after ``since``.

        Kept: the hidden ones are waiting records, and what is visible cannot be received (FIFO
        holds a waiting customer's later messages behind the waiting one) — shown by a receive
        started after ``since`` that found nothing.
        """
        with self._lock:
            if delayed or hidden > len(self._waiting):
                return False
            return not visible or self._found_nothing > since

    def run_due(self) -> int:
        """Make every waiting record visible at once (its retry time has come); how many."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        handles = list(waiting.values())
        for start in range(0, len(handles), 10):
            try:
                self._sqs.change_message_visibility_batch(
                    QueueUrl=self._queue.url,
                    Entries=[
                        {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for index, handle in enumerate(handles[start : start + 10])
                    ],
                )
            except (BotoCoreError, ClientError) as exc:
                # They still come back after the delay the function chose.
                logger.warning("retrying records of %s now failed: %s", self._queue.url, exc)
        return len(handles)

    def run(self) -> None:
        while not self._stopping.is_set():
            with self._busy():
                with self._lock:
                    self._receives += 1
                    number = self._receives
                try:
                    messages = self._sqs.receive_message(
                        QueueUrl=self._queue.url,
                        MaxNumberOfMessages=self._batch_size,
                        MessageAttributeNames=["All"],
                        MessageSystemAttributeNames=["All"],
                        WaitTimeSeconds=0,
                    ).get("Messages", [])
                except (BotoCoreError, ClientError) as exc:
                    logger.warning("receiving from %s failed: %s", self._queue.url, exc)
                    messages = []
                with self._lock:
                    self._found_nothing = -1 if messages else number
                    for message in messages:
                        self._waiting.pop(message["MessageId"], None)
                if messages:
                    self._run_batch(messages)
            if not messages:
                self._stopping.wait(_POLL_PAUSE)

    def _run_batch(self, messages: list[MessageTypeDef]) -> None:
        event = {"Records": [sqs_record(message, self._queue) for message in messages]}
        response = self._invoke(event, records=len(messages))
        if response is None:
            return  # the container died: every record reappears after its visibility timeout
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", ())}
        done = [m for m in messages if m["MessageId"] not in failed]
        with self._lock:
            self._waiting.update(
                (m["MessageId"], m["ReceiptHandle"]) for m in messages if m["MessageId"] in failed
            )
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=self._queue.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )


class Recorder:
    """Every invocation, EMF metric and log line of the functions, in order."""

    def __init__(self) -> None:
        self.invocations: list[Invocation] = []
        self.metrics: list[dict[str, Any]] = []
        self.log_lines: list[str] = []

    def keep_metrics(self, printed: str) -> None:
        for line in printed.splitlines():
            with contextlib.suppress(ValueError):
                value = json.loads(line)
                if isinstance(value, dict) and "_aws" in value:
                    self.metrics.append(value)

    def metric_total(self, name: str, *, function: str = "", kind: str = "") -> int:
        """The sum of an EMF metric over every invocation, optionally for one function/kind."""
        total = 0
        for blob in self.metrics:
            if function and blob.get("function") != function:
                continue
            if kind and blob.get("kind") != kind:
                continue
            value = blob.get(name)
            if isinstance(value, int | float):
                total += int(value)
            elif isinstance(value, list):
                total += int(sum(value))
        return total


class Lines(io.TextIOBase):
    """A text stream that keeps each written line (the functions' JSON log lines)."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    def write(self, text: str) -> int:
        self._lines.extend(line for line in text.splitlines() if line.strip())
        return len(text)


def sns_envelope(document: Mapping[str, Any]) -> dict[str, Any]:
    """A bare payload as the SNS notification that would carry it."""
    return build_http_envelope(
        dumps(document),
        {},
        topic_arn=defaults.INBOUND_TOPIC_ARN,
        message_id=str(uuid.uuid4()),
        timestamp="2026-01-15T09:30:00.000Z",
    )


def sqs_record(message: MessageTypeDef, queue: Queue) -> dict[str, Any]:
    """A received SQS message as Lambda's event source mapping hands it to the function."""
    attributes = {str(k): str(v) for k, v in message.get("Attributes", {}).items()}
    message_attributes: dict[str, dict[str, Any]] = {
        name: {
            "stringValue": value.get("StringValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue.arn,
        "awsRegion": defaults.REGION,
    }
