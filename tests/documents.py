"""Documents as the bridge's entry functions receive them, built by hand for the unit tests.

Hand-built on purpose (not with the sandbox's builders), so a builder bug and a parser bug cannot
cancel out.
"""

from __future__ import annotations

import json
from typing import Any

PHONE_ARN = (
    "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/"
    "0123456789abcdef0123456789abcdef"
)


def eum_texts(*texts: tuple[str, str], wa_id: str, name: str, user_id: str = "") -> dict[str, Any]:
    """An EUM notification carrying one text message from ``wa_id`` per (wamid, body); with
    ``user_id``, the messages carry the customer's business-scoped user id too."""
    messages = [
        {
            "from": wa_id,
            "id": wamid,
            "timestamp": "1764000001",
            "type": "text",
            "text": {"body": body},
        }
        | ({"from_user_id": user_id} if user_id else {})
        for wamid, body in texts
    ]
    entry = {
        "id": "200000000000001",
        "changes": [
            {
                "field": "messages",
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "15550000000",
                        "phone_number_id": "100000000000001",
                    },
                    "contacts": [
                        {"profile": {"name": name}, "wa_id": wa_id}
                        | ({"user_id": user_id} if user_id else {})
                    ],
                    "messages": messages,
                },
            }
        ],
    }
    return {
        "context": {
            "MetaWabaIds": [{"wabaId": "200000000000001", "arn": "arn:aws:x"}],
            "MetaPhoneNumberIds": [{"metaPhoneNumberId": "100000000000001", "arn": PHONE_ARN}],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": "123456789012",
        "message_timestamp": "2026-11-24T10:15:30.123456789Z",
    }


def connect_text(body: str, *, contact_id: str, event_id: str) -> dict[str, Any]:
    """The streaming message Connect publishes for an agent's text in a contact's chat."""
    return {
        "AbsoluteTime": "2026-11-24T10:16:01.000Z",
        "ContentType": "text/plain",
        "Id": event_id,
        "Type": "MESSAGE",
        "ParticipantId": "participant-agent",
        "DisplayName": "Sam",
        "ParticipantRole": "AGENT",
        "InitialContactId": contact_id,
        "ContactId": contact_id,
        "Content": body,
    }


def meta_body(*messages: dict[str, Any], wa_id: str = "15550100001", name: str = "Ana") -> dict:
    """A Meta webhook body carrying ``messages`` (raw message objects) from one customer."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550000000",
                                "phone_number_id": "100000000000001",
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                            "messages": list(messages),
                        },
                    }
                ],
            }
        ],
    }


def as_eum(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The End User Messaging notifications that carry a Meta webhook body: one per entry, each
    listing the phone numbers its changes name."""
    notifications = []
    for entry in body.get("entry", []):
        numbers = []
        for change in entry.get("changes", []) if isinstance(entry, dict) else []:
            metadata = (
                change.get("value", {}).get("metadata", {}) if isinstance(change, dict) else {}
            )
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if isinstance(number, str) and number not in numbers:
                numbers.append(number)
        waba = entry.get("id") if isinstance(entry, dict) else None
        notifications.append(
            {
                "context": {
                    "MetaWabaIds": [{"wabaId": str(waba or "200000000000001"), "arn": "arn:aws:x"}],
                    "MetaPhoneNumberIds": [
                        {
                            "metaPhoneNumberId": number,
                            "arn": PHONE_ARN.rsplit("/", 1)[0] + "/" + f"{index:032x}",
                        }
                        for index, number in enumerate(numbers, 1)
                    ],
                },
                "whatsAppWebhookEntry": json.dumps(entry),
                "aws_account_id": "123456789012",
                "message_timestamp": "2026-11-24T10:15:30.123456789Z",
            }
        )
    return notifications
