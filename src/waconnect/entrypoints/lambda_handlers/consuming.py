"""One SQS FIFO record through the bridge, and what its outcome means for the queue.

| outcome                                        | the record                                   |
| delivered, duplicate, skipped, ignored         | deleted (done)                               |
| failed, with someone told (``failure`` set)    | deleted (done; the customer or agent knows)  |
| rejected (a body or payload that cannot be read)| dead-lettered at once with the reason       |
| deferred (still failing transiently)           | hidden for the schedule's next delay, then   |
|                                                | tried again; past the maximum age, one last  |
|                                                | try tells the people and it is dead-lettered |
| failed with nobody told (an unexpected error)  | tried again after a delay; on the            |
|                                                | ``POISON_RECEIVES``-th receive dead-lettered |

"Tried again" is a record reported failed: Powertools' ``SqsFifoPartialProcessor`` then also
fails the rest of its message group in the batch, so one customer's trouble holds only that
customer, and their later messages wait behind it in order. A dead-lettered record is sent to
the source queue's dead-letter queue with its reason as message attributes, then acknowledged.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from waconnect.entrypoints.lambda_handlers.queueing import (
    REASON_ATTRIBUTE,
    RECEIVES_ATTRIBUTE,
    SOURCE_ATTRIBUTE,
    TOLD_ATTRIBUTE,
    QueuedItem,
    read_body,
)
from waconnect.entrypoints.lambda_handlers.schedule import POISON_RECEIVES
from waconnect.errors import MalformedPayload, TransientError
from waconnect.services.outcome import Outcome
from waconnect.services.redact import mask
from waconnect.wire.inbound import parse_connect_document, parse_whatsapp_document

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

    from waconnect.entrypoints.lambda_handlers.runtime import Runtime


class TryLater(Exception):
    """The record is not done: it stays in its queue (hidden for a while) and comes back."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """What became of a record, for the metrics: an outcome kind and the item's kind."""

    outcome: str
    kind: str


class RecordConsumer:
    """Handles the records of one invocation; ``counts`` holds (outcome, kind) tallies."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, record: SQSRecord) -> None:
        logger = self._runtime.logger
        receives = int(record.attributes.approximate_receive_count or 1)
        logger.append_keys(sqs_message_id=record.message_id, receive_count=receives)
        try:
            try:
                item = read_body(record.body)
            except MalformedPayload as exc:
                self._dead_letter(record, f"unreadable queue body: {exc}")
                self.counts[("dead-lettered", "unknown")] += 1
                return
            logger.append_keys(item=item.item, item_id=_masked(item))
            settled = self._settle(record, item, receives)
            self.counts[(settled.outcome, settled.kind)] += 1
        finally:
            logger.remove_keys(["sqs_message_id", "receive_count", "item", "item_id"])

    def _settle(self, record: SQSRecord, item: QueuedItem, receives: int) -> Settled:
        conversions = self._runtime.conversions
        if conversions is None:
            return self._settle_once(record, item, receives)
        # Counted once the record is done: a record tried again (``TryLater``) converts again,
        # and what it converted before is left out.
        conversions.take()
        settled = self._settle_once(record, item, receives)
        converted = conversions.take()
        if converted:
            self.counts[("converted", settled.kind)] += converted
        return settled

    def _settle_once(self, record: SQSRecord, item: QueuedItem, receives: int) -> Settled:
        outcome, kind = self._deliver(item, defer=True)
        if outcome.kind == "rejected":
            self._runtime.settled(outcome)
            self._dead_letter(record, outcome.reason)
            return Settled(outcome="dead-lettered", kind=kind)
        if not outcome.redeliverable:
            self._runtime.settled(outcome)
            return Settled(outcome=outcome.kind, kind=kind)
        age = max(0.0, time.time() - int(record.attributes.sent_timestamp) / 1000)
        if outcome.kind == "deferred":
            delay = self._runtime.schedule.next_delay(
                receive_count=receives, age_seconds=age, at_least=outcome.retry_after
            )
            if delay is not None:
                self._hide(record, delay)
                self._runtime.logger.info(
                    "not delivered yet; tried again in %ss", delay, extra={"reason": outcome.reason}
                )
                self.counts[("deferred", kind)] += 1
                raise TryLater(outcome.reason)
            # Too old to wait longer: one last try that tells the customer and the agent.
            final, _ = self._deliver(item, defer=False)
            self._runtime.settled(final)
            reason = f"still failing after {int(age)}s: {outcome.reason}"
            if final.failure is not None:
                reason += " (the customer and agent were told)"
            self._dead_letter(record, reason, told=final.failure is not None)
            return Settled(outcome="dead-lettered", kind=kind)
        if receives >= POISON_RECEIVES:
            self._runtime.settled(outcome)
            self._dead_letter(record, f"failed {receives} times: {outcome.reason}")
            return Settled(outcome="dead-lettered", kind=kind)
        self._hide(record, self._runtime.schedule.delay(receives))
        self.counts[("failed", kind)] += 1
        raise TryLater(outcome.reason)

    def _deliver(self, item: QueuedItem, *, defer: bool) -> tuple[Outcome, str]:
        bridge = self._runtime.bridge
        try:
            if item.item == "event":
                event = next(
                    e for e in parse_connect_document(item.sns) if e.event_id == item.item_id
                )
                return bridge.handle_event(event, defer=defer), event.type.value.lower()
            batch = parse_whatsapp_document(item.sns)
            if item.item == "status":
                status = next(s for s in batch.statuses if s.wamid == item.item_id)
                return bridge.handle_statuses([status])[0], "status"
            message = next(m for m in batch.messages if m.wamid == item.item_id)
        except MalformedPayload as exc:
            return Outcome(kind="rejected", reason=str(exc)), "unknown"
        except StopIteration:
            reason = f"the notification holds no {item.item} {mask(item.item_id)}"
            return Outcome(kind="rejected", reason=reason), "unknown"
        return bridge.handle_message(message, defer=defer), message.type.value

    def _hide(self, record: SQSRecord, seconds: int) -> None:
        sqs = self._runtime.sqs
        try:
            sqs.change_message_visibility(
                QueueUrl=self._runtime.queue_url(record.event_source_arn),
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=seconds,
            )
        except (BotoCoreError, ClientError) as exc:  # the queue's own visibility timeout applies
            self._runtime.logger.warning("could not delay a retry: %s", exc)

    def _dead_letter(self, record: SQSRecord, reason: str, *, told: bool = False) -> None:
        runtime = self._runtime
        source = runtime.queue_url(record.event_source_arn)
        target = runtime.dead_letter_target(source)
        if target is None:
            # No dead-letter queue configured: keep failing, so nothing is silently deleted.
            raise TransientError(f"no dead-letter queue for {source}; kept: {reason}")
        runtime.sqs.send_message(
            QueueUrl=target.queue_url,
            MessageBody=record.body,
            MessageGroupId=record.attributes.message_group_id or "dead-letters",
            MessageDeduplicationId=record.message_id,
            MessageAttributes=dead_letter_attributes(record, source, reason, told=told),
        )
        runtime.logger.error("dead-lettered", extra={"reason": reason})


def dead_letter_attributes(
    record: SQSRecord, source: str, reason: str, *, told: bool = False
) -> dict[str, MessageAttributeValueTypeDef]:
    """What ``waconnect dlq`` shows of a dead-lettered record: why, from where, how often
    received, and whether the people were already told."""
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:4000]},
        SOURCE_ATTRIBUTE: {"DataType": "String", "StringValue": source},
        RECEIVES_ATTRIBUTE: {
            "DataType": "Number",
            "StringValue": str(record.attributes.approximate_receive_count or 1),
        },
    }
    if told:
        attributes[TOLD_ATTRIBUTE] = {"DataType": "String", "StringValue": "true"}
    return attributes


def _masked(item: QueuedItem) -> str:
    return mask(item.item_id)
