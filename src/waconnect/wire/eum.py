"""End User Messaging Social notifications: the bare JSON EUM publishes to its SNS topic.

``context`` names the AWS resources (WABA and phone-number ARNs); ``whatsAppWebhookEntry`` is a
JSON *string* holding one Meta webhook ``entry``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from waconnect.domain.whatsapp import BusinessNumber, InboundBatch
from waconnect.wire._reader import Node, load
from waconnect.wire.meta_webhook import parse_entry_node

SOURCE = "eum"
AWS_PHONE_NUMBER_PREFIX = "phone-number-id-"


def is_eum_notification(doc: Mapping[str, Any]) -> bool:
    return "whatsAppWebhookEntry" in doc


def aws_phone_number_id(arn: str) -> str:
    """``phone-number-id-<suffix>`` from a phone number's ARN (what SendWhatsAppMessage takes)."""
    return AWS_PHONE_NUMBER_PREFIX + arn.rsplit("/", 1)[-1]


def parse_eum_notification(msg: Mapping[str, Any] | str | bytes) -> InboundBatch:
    return parse_eum_node(load(msg, SOURCE))


def parse_eum_node(root: Node) -> InboundBatch:
    entry = root.child("whatsAppWebhookEntry").decoded()
    entry.mapping()
    context = root.get("context")
    hint = None if context is None else _business_hint(context, _first_phone_number_id(entry))
    messages, statuses = parse_entry_node(entry, business_hint=hint)
    return InboundBatch(source=SOURCE, messages=messages, statuses=statuses)


def _first_phone_number_id(entry: Node) -> str:
    # Peeked without validation: parse_entry_node reports anything malformed with its path.
    changes = entry.mapping().get("changes")
    if isinstance(changes, list) and changes and isinstance(changes[0], Mapping):
        value = changes[0].get("value")
        if isinstance(value, Mapping) and isinstance(value.get("metadata"), Mapping):
            phone_number_id = value["metadata"].get("phone_number_id")
            if isinstance(phone_number_id, str):
                return phone_number_id
    return ""


def _business_hint(context: Node, phone_number_id: str) -> BusinessNumber | None:
    numbers = context.list_of("MetaPhoneNumberIds")
    wabas = context.list_of("MetaWabaIds")
    waba_id = wabas[0].req_str("wabaId") if wabas else ""
    chosen = None
    for number in numbers:
        if number.req_str("metaPhoneNumberId") == phone_number_id or len(numbers) == 1:
            chosen = number
            break
    if chosen is None:
        return BusinessNumber(meta_phone_number_id="", waba_id=waba_id) if waba_id else None
    return BusinessNumber(
        meta_phone_number_id=chosen.req_str("metaPhoneNumberId"),
        waba_id=waba_id,
        aws_phone_number_id=aws_phone_number_id(chosen.req_str("arn")),
    )


def build_eum_notification(
    entry: Mapping[str, Any],
    *,
    business: BusinessNumber,
    phone_number_arn: str,
    waba_arn: str,
    account_id: str,
    timestamp_ns: int | None = None,
    message_id: str = "",
) -> dict[str, Any]:
    """The notification EUM publishes for one Meta ``entry`` received on ``business``."""
    notification: dict[str, Any] = {
        "context": {
            "MetaWabaIds": [{"wabaId": business.waba_id, "arn": waba_arn}],
            "MetaPhoneNumberIds": [
                {"metaPhoneNumberId": business.meta_phone_number_id, "arn": phone_number_arn}
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry, ensure_ascii=False, separators=(",", ":")),
        "aws_account_id": account_id,
        "message_timestamp": format_timestamp_ns(
            time.time_ns() if timestamp_ns is None else timestamp_ns
        ),
    }
    if message_id:
        notification["messageId"] = message_id
    return notification


def format_timestamp_ns(timestamp_ns: int) -> str:
    """ISO 8601 UTC with nanoseconds, as EUM writes ``message_timestamp``."""
    seconds, nanos = divmod(timestamp_ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"
