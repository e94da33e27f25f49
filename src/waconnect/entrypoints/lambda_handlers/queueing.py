"""From an SNS notification to SQS FIFO entries: one per message, status or Connect event.

Each entry's body keeps the SNS notification as delivered (``sns``) and names the one item it is
for, so the consuming function parses it with the same wire code as every other shape.

| item                | MessageGroupId (hashed)                 | MessageDeduplicationId   |
| customer message    | the customer's session key (linked ids) | the wamid                |
| WhatsApp status     | business number + recipient identity    | wamid + status + time    |
| Connect event       | initial contact id (else contact id)    | the SNS MessageId        |

Groups are hashed so no phone number shows in a queue's console or logs. A customer message's
deduplication id is its wamid, so End User Messaging publishing the same message twice within
SQS's five minutes costs nothing downstream; ``ingest`` drops later copies of a message the
ledger records as done, and the consuming function's claim drops any that slip through.
Connect events are deduplicated by SNS MessageId: an attachment's IN_PROGRESS and APPROVED
notifications share an item id but are two deliveries.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from waconnect.domain.session import SessionKey
from waconnect.domain.whatsapp import InboundBatch, InboundMessage
from waconnect.errors import MalformedPayload
from waconnect.wire.inbound import parse_connect_document, parse_whatsapp_document
from waconnect.wire.sns import SnsSubscriptionMessage

BODY_VERSION = 1
# SQS's limits on the two ids.
_ID_MAX = 128
# SendMessageBatch takes at most ten entries.
BATCH_SIZE = 10

Item = Literal["message", "status", "event"]
KeyOf = Callable[[InboundMessage], SessionKey]

# Message attributes of a dead-lettered record (``waconnect dlq`` reads them).
REASON_ATTRIBUTE = "waconnect-reason"
SOURCE_ATTRIBUTE = "waconnect-source-queue"
RECEIVES_ATTRIBUTE = "waconnect-receives"
# Present ("true") when the people were told the item failed and its claim is kept: redriven,
# it is dropped as a duplicate.
TOLD_ATTRIBUTE = "waconnect-told"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntry:
    """One SQS FIFO message to send."""

    group_id: str
    deduplication_id: str
    body: str
    kind: str  # the message type (text, image, ...), "status" or the Connect item type
    wamid: str = ""  # a customer message's; empty for statuses and events


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A notification, or an item in one, that cannot be queued (logged and counted)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedItem:
    """A queue body read back: the SNS notification and the item it is for."""

    item: Item
    item_id: str
    sns: Mapping[str, Any]


def whatsapp_entries(
    sns: Mapping[str, Any], *, key_of: KeyOf | None = None
) -> tuple[list[QueueEntry], list[Refusal]]:
    """The entries of one End User Messaging notification (a Lambda SNS record's ``Sns``).

    ``key_of`` resolves a message's customer to their session key (one customer known by phone
    number and by BSUID has one); by default the ids the message carries decide.
    """
    try:
        batch = parse_whatsapp_document(sns)
    except MalformedPayload as exc:
        return [], [Refusal(reason=str(exc))]
    except SnsSubscriptionMessage:
        return [], []
    entries = _whatsapp_entries(batch, sns, key_of or _carried_key)
    return list(entries), [Refusal(reason=r) for r in batch.unreadable]


def _carried_key(message: InboundMessage) -> SessionKey:
    return SessionKey.of(message.business, message.customer)


def _whatsapp_entries(
    batch: InboundBatch, sns: Mapping[str, Any], key_of: KeyOf
) -> Iterator[QueueEntry]:
    for message in batch.messages:
        key = key_of(message)
        yield QueueEntry(
            group_id=group_id(str(key)),
            deduplication_id=_short(message.wamid),
            body=_body("message", message.wamid, sns),
            kind=message.type.value,
            wamid=message.wamid,
        )
    for status in batch.statuses:
        recipient = status.recipient_user_id or status.recipient_id
        yield QueueEntry(
            group_id=group_id(f"{status.business.meta_phone_number_id}#{recipient}"),
            deduplication_id=_short(f"{status.wamid}:{status.status.value}:{status.timestamp}"),
            body=_body("status", status.wamid, sns),
            kind="status",
        )


def connect_entries(sns: Mapping[str, Any]) -> tuple[list[QueueEntry], list[Refusal]]:
    """The entries of one Connect streaming notification (a Lambda SNS record's ``Sns``)."""
    try:
        events = parse_connect_document(sns)
    except MalformedPayload as exc:
        return [], [Refusal(reason=str(exc))]
    except SnsSubscriptionMessage:
        return [], []
    message_id = str(sns.get("MessageId", ""))
    entries = []
    for index, event in enumerate(events):
        contact = event.initial_contact_id or event.contact_id
        dedup = f"{message_id}#{index}" if message_id else event.event_id
        entries.append(
            QueueEntry(
                group_id=group_id(f"contact#{contact}"),
                deduplication_id=_short(dedup),
                body=_body("event", event.event_id, sns),
                kind=event.type.value.lower(),
            )
        )
    return entries, []


def read_body(body: str) -> QueuedItem:
    """A queue body back; ``MalformedPayload`` when it is not one ``ingest`` wrote."""
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload("queue", "body", f"not JSON: {exc}") from None
    if not isinstance(value, dict) or value.get("v") != BODY_VERSION:
        raise MalformedPayload("queue", "v", f"expected body version {BODY_VERSION}")
    item, item_id, sns = value.get("item"), value.get("id"), value.get("sns")
    if item not in ("message", "status", "event"):
        raise MalformedPayload("queue", "item", f"unknown item {item!r}")
    if not isinstance(item_id, str) or not isinstance(sns, dict):
        raise MalformedPayload("queue", "id", "expected an id and an SNS notification")
    return QueuedItem(item=item, item_id=item_id, sns=sns)


def batches(entries: Sequence[QueueEntry]) -> Iterable[Sequence[QueueEntry]]:
    """``entries`` in SendMessageBatch-sized slices, in order."""
    for start in range(0, len(entries), BATCH_SIZE):
        yield entries[start : start + BATCH_SIZE]


def group_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def _short(value: str) -> str:
    if len(value) <= _ID_MAX and value.isascii() and value.isprintable():
        return value
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _body(item: Item, item_id: str, sns: Mapping[str, Any]) -> str:
    return json.dumps({"v": BODY_VERSION, "item": item, "id": item_id, "sns": sns})
