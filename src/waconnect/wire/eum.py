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
    hints = () if context is None else business_hints(context, waba_id=_entry_id(entry))
    return parse_entry_node(entry, business_hints=hints).batch(SOURCE)


def _entry_id(entry: Node) -> str:
    # Peeked without validation: parse_entry_node reports a malformed id with its path.
    entry_id = entry.mapping().get("id")
    return entry_id if isinstance(entry_id, str) else ""


def business_hints(context: Node, *, waba_id: str = "") -> tuple[BusinessNumber, ...]:
    """Every phone number the notification's ``context`` lists, with its End User Messaging id.

    A notification may list several numbers of one WABA; each change of the entry is matched to
    its own by ``metadata.phone_number_id``. The WABA is the one whose id is the entry's, else
    the first listed.
    """
    wabas = [waba.req_str("wabaId") for waba in context.list_of("MetaWabaIds")]
    waba = waba_id if waba_id in wabas else (wabas[0] if wabas else "")
    hints = tuple(
        BusinessNumber(
            meta_phone_number_id=number.req_str("metaPhoneNumberId"),
            waba_id=waba,
            aws_phone_number_id=aws_phone_number_id(number.req_str("arn")),
        )
        for number in context.list_of("MetaPhoneNumberIds")
    )
    if not hints and waba:
        return (BusinessNumber(meta_phone_number_id="", waba_id=waba),)
    return hints


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
