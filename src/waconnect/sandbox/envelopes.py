"""The documents the emulated cloud publishes, shaped as AWS publishes them.

Kept private to the sandbox (the bridge's own parsers live in ``waconnect.wire``), so a parser bug
and a builder bug cannot cancel out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from waconnect.sandbox.topics import iso_millis

EVENT_PREFIX = "application/vnd.amazonaws.connect.event."


def connect_stream_message(
    *,
    item: Mapping[str, Any],
    contact_id: str,
    initial_contact_id: str,
) -> dict[str, Any]:
    """The SNS ``Message`` Connect publishes for one transcript item."""
    document = {key: value for key, value in item.items() if value is not None}
    document["ContactId"] = contact_id
    document["InitialContactId"] = initial_contact_id
    return document


def connect_stream_attributes(
    *,
    item: Mapping[str, Any],
    contact_id: str,
    initial_contact_id: str,
    instance_id: str,
    account_id: str,
    visibility: str = "ALL",
) -> dict[str, str]:
    return {
        "InitialContactId": initial_contact_id,
        "ContactId": contact_id,
        "ParticipantRole": str(item.get("ParticipantRole", "")),
        "InstanceId": instance_id,
        "AccountId": account_id,
        "Type": str(item["Type"]),
        "ContentType": str(item.get("ContentType", "")),
        "MessageVisibility": visibility,
    }


def meta_entry(
    *,
    waba_id: str,
    display_phone_number: str,
    meta_phone_number_id: str,
    contacts: Sequence[Mapping[str, Any]],
    messages: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One Meta webhook ``entry`` carrying customer messages."""
    value = {"contacts": list(contacts), "messages": list(messages)}
    return _entry(waba_id, display_phone_number, meta_phone_number_id, value)


def eum_notification(
    *,
    entry: Mapping[str, Any],
    waba_id: str,
    waba_arn: str,
    meta_phone_number_id: str,
    phone_number_arn: str,
    account_id: str,
    timestamp: float,
) -> dict[str, Any]:
    """The SNS ``Message`` End User Messaging publishes for one webhook entry."""
    nanos = f"{round(timestamp * 1e9) % 10**9:09d}"
    return {
        "context": {
            "MetaWabaIds": [{"wabaId": waba_id, "arn": waba_arn}],
            "MetaPhoneNumberIds": [
                {"metaPhoneNumberId": meta_phone_number_id, "arn": phone_number_arn}
            ],
        },
        # A JSON string, not an object: that is how End User Messaging sends it.
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": account_id,
        "message_timestamp": iso_millis(timestamp)[:-5] + f".{nanos}Z",
    }


def meta_status_entry(
    *,
    waba_id: str,
    display_phone_number: str,
    meta_phone_number_id: str,
    statuses: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """One Meta webhook ``entry`` carrying statuses of messages the business sent."""
    value = {"statuses": list(statuses)}
    return _entry(waba_id, display_phone_number, meta_phone_number_id, value)


def _entry(
    waba_id: str, display_phone_number: str, meta_phone_number_id: str, value: Mapping[str, Any]
) -> dict[str, Any]:
    """A Meta webhook ``entry`` of one ``messages`` change: the business number, then ``value``."""
    metadata = {
        "display_phone_number": display_phone_number,
        "phone_number_id": meta_phone_number_id,
    }
    return {
        "id": waba_id,
        "changes": [
            {
                "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                "field": "messages",
            }
        ],
    }
