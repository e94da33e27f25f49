"""``waconnect dlq list|redrive``: the dead-lettered records of the Lambda deployment.

Each source queue has a dead-letter queue named by its RedrivePolicy: FIFO for the inbound and
outbound queues, standard for the queue of Transcribe's job state changes (``transcribed``).
``list`` shows every record there with its reason: the one the function wrote when it gave up
(message attributes), or, for a record SQS moved on its own after ``maxReceiveCount`` receives,
that the function never finished (a timeout or crash). ``redrive`` moves records back to their
source queue, in order, with their message group (a standard queue has neither order nor groups):
the function then runs them again.

Queues come from ``WACONNECT_INBOUND_QUEUE_URL`` / ``WACONNECT_OUTBOUND_QUEUE_URL`` (the
functions' own settings), ``WACONNECT_TRANSCRIBED_QUEUE_URL`` (read only here: the function
learns its queue from its records), or ``--queue URL``. SQS FIFO hides the rest of a message
group while one of its records is being read, so a listing sees at most ten records of one group
per pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from waconnect.entrypoints.lambda_handlers.queueing import REASON_ATTRIBUTE, TOLD_ATTRIBUTE
from waconnect.errors import ConfigurationError
from waconnect.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Long enough to read a batch and act on it; a failed run leaves records to reappear after it.
_HOLD_SECONDS = 60
_NO_REASON = "no reason recorded: SQS moved it after the function failed to finish it {n} times"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    source_queue: str
    message_id: str
    group_id: str
    receives: int
    item: str
    reason: str
    # The customer and agent were told it failed and its claim is kept: redriven, the function
    # drops it as a duplicate (nothing is delivered or said again).
    told: bool = False

    def line(self) -> str:
        name = self.source_queue.rsplit("/", 1)[-1]
        told = "  (already told: redriven, it is dropped as a duplicate)" if self.told else ""
        group = f"group {self.group_id[:12]}  " if self.group_id else ""
        return (
            f"{name}  {self.message_id}  {group}{self.item}  "
            f"receives {self.receives}  reason: {self.reason}{told}"
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("list", "redrive"))
    parser.add_argument(
        "which",
        nargs="?",
        default="all",
        choices=("inbound", "outbound", "transcribed", "all"),
        help="the source queue whose dead letters to act on (default: all)",
    )
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        metavar="URL",
        help="a source queue's URL (instead of the WACONNECT_*_QUEUE_URL settings)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per record")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.queues_from_env(os.environ)
    except ConfigurationError as exc:
        print(f"waconnect dlq: {exc}", file=sys.stderr)
        return 2
    queues: list[str] = list(args.queue)
    if not queues:
        if args.which in ("inbound", "all") and settings.inbound_queue_url:
            queues.append(settings.inbound_queue_url)
        if args.which in ("outbound", "all") and settings.outbound_queue_url:
            queues.append(settings.outbound_queue_url)
        if args.which in ("transcribed", "all") and settings.transcribed_queue_url:
            queues.append(settings.transcribed_queue_url)
    if not queues:
        print(
            "waconnect dlq: no queue: set WACONNECT_INBOUND_QUEUE_URL / "
            "WACONNECT_OUTBOUND_QUEUE_URL / WACONNECT_TRANSCRIBED_QUEUE_URL or pass --queue URL",
            file=sys.stderr,
        )
        return 2
    if not settings.region:
        print("waconnect dlq: no region: set WACONNECT_REGION or AWS_REGION", file=sys.stderr)
        return 2
    import boto3  # noqa: PLC0415 - only this command needs it
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    sqs: SQSClient = boto3.client(
        "sqs", region_name=settings.region, endpoint_url=settings.sqs_endpoint_url or None
    )
    try:
        _act(sqs, queues, args)
    except (BotoCoreError, ClientError) as exc:
        # No credentials, no such queue, no network: one line, as for any handled failure.
        print(f"waconnect dlq: {exc}", file=sys.stderr)
        return 1
    return 0


def _act(sqs: SQSClient, queues: list[str], args: argparse.Namespace) -> None:
    out = sys.stdout
    for queue in queues:
        if args.action == "list":
            records = list_dead_letters(sqs, queue)
            _print(records, out, as_json=args.json)
            if not args.json:
                print(f"{len(records)} dead-lettered in {queue.rsplit('/', 1)[-1]}", file=out)
        else:
            moved = redrive(sqs, queue)
            _print(moved, out, as_json=args.json)
            if not args.json:
                told = sum(record.told for record in moved)
                note = f"; {told} already told, dropped as duplicates" if told else ""
                print(f"{len(moved)} moved back to {queue.rsplit('/', 1)[-1]}{note}", file=out)


def dead_letter_queue(sqs: SQSClient, source_queue: str) -> str:
    """The URL of ``source_queue``'s dead-letter queue; ValueError when it has none."""
    attributes = sqs.get_queue_attributes(QueueUrl=source_queue, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise ValueError(f"{source_queue} has no dead-letter queue (no RedrivePolicy)")
    arn = str(json.loads(policy)["deadLetterTargetArn"])
    _, _, _, _, account, name = arn.split(":", 5)
    return sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def list_dead_letters(sqs: SQSClient, source_queue: str) -> list[DeadLetter]:
    """Every record in the dead-letter queue of ``source_queue``; they stay there."""
    dlq = dead_letter_queue(sqs, source_queue)
    held = _receive_all(sqs, dlq)
    # Make them visible again at once: listing must not delay a redrive.
    for start in range(0, len(held), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=dlq,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(held[start : start + 10])
            ],
        )
    return [_describe(source_queue, message) for message in held]


def redrive(sqs: SQSClient, source_queue: str) -> list[DeadLetter]:
    """Move every record of ``source_queue``'s dead-letter queue back to it, in order."""
    dlq = dead_letter_queue(sqs, source_queue)
    # SQS requires the suffix of every FIFO queue's name; a standard queue takes no group.
    fifo = source_queue.endswith(".fifo")
    moved: list[DeadLetter] = []
    # Records dead-lettered again while this runs (the cause is not fixed) stay for next time.
    started_ms = int(time.time() * 1000)
    while True:
        batch = _receive(sqs, dlq)
        if not batch:
            return moved
        newer = [m for m in batch if _sent_ms(m) > started_ms]
        for message in newer:
            sqs.change_message_visibility(
                QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        for message in (m for m in batch if _sent_ms(m) <= started_ms):
            if fifo:
                group = message.get("Attributes", {}).get("MessageGroupId", "dead-letters")
                # A fresh deduplication id: the original may still be inside SQS's five minutes.
                sqs.send_message(
                    QueueUrl=source_queue,
                    MessageBody=message["Body"],
                    MessageGroupId=group,
                    MessageDeduplicationId=f"redrive-{uuid.uuid4().hex}",
                )
            else:
                sqs.send_message(QueueUrl=source_queue, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            moved.append(_describe(source_queue, message))
        if newer:
            return moved


def _sent_ms(message: MessageTypeDef) -> int:
    return int(message.get("Attributes", {}).get("SentTimestamp", "0") or 0)


def _receive_all(sqs: SQSClient, queue: str) -> list[MessageTypeDef]:
    seen: dict[str, MessageTypeDef] = {}
    while True:
        batch = [m for m in _receive(sqs, queue) if m["MessageId"] not in seen]
        if not batch:
            return list(seen.values())
        for message in batch:
            seen[message["MessageId"]] = message


def _receive(sqs: SQSClient, queue: str) -> list[MessageTypeDef]:
    return list(
        sqs.receive_message(
            QueueUrl=queue,
            MaxNumberOfMessages=10,
            VisibilityTimeout=_HOLD_SECONDS,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            WaitTimeSeconds=0,
        ).get("Messages", [])
    )


def _describe(source_queue: str, message: MessageTypeDef) -> DeadLetter:
    attributes = message.get("Attributes", {})
    receives = int(attributes.get("ApproximateReceiveCount", "0") or 0)
    reason_value = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE)
    recorded = reason_value.get("StringValue", "") if reason_value is not None else ""
    reason = recorded or _eventbridge_reason(message) or _NO_REASON.format(n="maxReceiveCount")
    told_value = message.get("MessageAttributes", {}).get(TOLD_ATTRIBUTE)
    told = told_value is not None and told_value.get("StringValue") == "true"
    return DeadLetter(
        source_queue=source_queue,
        message_id=message["MessageId"],
        group_id=attributes.get("MessageGroupId", ""),
        receives=receives,
        item=_item(message["Body"]),
        reason=reason,
        told=told,
    )


def _eventbridge_reason(message: MessageTypeDef) -> str:
    """A job state change EventBridge could not put on the queue: the rule's dead-letter queue
    is the queue's own, and EventBridge names its error in these attributes."""
    attributes = message.get("MessageAttributes", {})
    code_value = attributes.get("ERROR_CODE")
    code = code_value.get("StringValue", "") if code_value is not None else ""
    if not code:
        return ""
    text_value = attributes.get("ERROR_MESSAGE")
    text = text_value.get("StringValue", "") if text_value is not None else ""
    return f"EventBridge could not put it on the queue: {code} {text}".rstrip()


def _item(body: str) -> str:
    """What the record is for, without its content: ``message wamid#…``, ``event <id>``, or
    ``job <name>`` for a Transcribe job state change (the name is a hash, not the wamid)."""
    from waconnect.services.redact import mask  # noqa: PLC0415

    try:
        value: Any = json.loads(body)
    except ValueError:
        return "unreadable body"
    if not isinstance(value, dict):
        return "unreadable body"
    if "detail-type" in value:
        detail = value.get("detail")
        job = detail.get("TranscriptionJobName") if isinstance(detail, dict) else None
        return f"job {job}" if isinstance(job, str) and job else f"event {value.get('id', '?')}"
    return f"{value.get('item', '?')} {mask(str(value.get('id', '')))}"


def _print(records: list[DeadLetter], out: TextIO, *, as_json: bool) -> None:
    for record in records:
        out.write((json.dumps(dataclasses.asdict(record)) if as_json else record.line()) + "\n")
