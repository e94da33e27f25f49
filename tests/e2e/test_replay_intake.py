"""Replayed raw payloads: one unreadable message never hides another, an unknown business number
opens no chat, and an ad referral reaches the agent (DESIGN.md "Inbound")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import ANA, BEN
from waconnect.sandbox import defaults

pytestmark = pytest.mark.slow

UNCONFIGURED = "100000000000077"


def meta_webhook(*messages: dict[str, Any], phone_number_id: str = "") -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": defaults.DISPLAY_PHONE_NUMBER,
            "phone_number_id": phone_number_id or defaults.META_PHONE_NUMBER_ID,
        },
        "messages": [{"timestamp": "1764000000", **m} for m in messages],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": defaults.WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    }


def test_an_unreadable_message_becomes_a_notice_and_its_neighbours_still_arrive(
    play: Any,
) -> None:
    replayed = play(
        [
            meta_webhook(
                {"from": ANA, "id": "wamid.R.1", "type": "text", "text": {"body": "Hello"}},
                {"from": BEN, "id": "wamid.R.2", "type": "location",
                 "location": {"latitude": None}},
                {"from": ANA, "type": "text", "text": {"body": "no id"}},
                {"from": ANA, "id": "wamid.R.4", "type": "text", "text": {"body": "Still here"}},
            )
        ]
    )  # fmt: skip

    customer_of = {
        line["contact_id"]: line["customer"] for line in replayed.where(kind="chat.started")
    }
    texts = {
        (customer_of[line["contact_id"]], line["text"])
        for line in replayed.where(to="agent", kind="message")
    }
    assert texts == {
        (ANA, "Hello"),
        (ANA, "Still here"),
        (
            BEN,
            "⚠️ The customer sent a location message that could not be read: "
            "location.latitude: expected a number, got null",
        ),
    }
    [rejected] = replayed.where(kind="rejected")
    assert rejected["reason"] == (
        "meta: entry[0].changes[0].value.messages[2].id: required field is missing"
    )


def test_an_eum_notification_for_two_numbers_answers_each_from_its_own(play: Any) -> None:
    first = meta_webhook(
        {"from": ANA, "id": "wamid.T.1", "type": "text", "text": {"body": "to the known number"}}
    )["entry"][0]
    second = meta_webhook(
        {"from": BEN, "id": "wamid.T.2", "type": "text", "text": {"body": "to the other one"}},
        phone_number_id=UNCONFIGURED,
    )["entry"][0]["changes"][0]
    first["changes"].append(second)
    notification = {
        "context": {
            "MetaWabaIds": [{"wabaId": defaults.WABA_ID, "arn": defaults.WABA_ARN}],
            # The known number is listed second: it must still be matched by its id.
            "MetaPhoneNumberIds": [
                {
                    "metaPhoneNumberId": UNCONFIGURED,
                    "arn": defaults.PHONE_NUMBER_ARN.rsplit("/", 1)[0] + "/" + "7" * 32,
                },
                {
                    "metaPhoneNumberId": defaults.META_PHONE_NUMBER_ID,
                    "arn": defaults.PHONE_NUMBER_ARN,
                },
            ],
        },
        "whatsAppWebhookEntry": json.dumps(first),
        "aws_account_id": defaults.ACCOUNT_ID,
        "message_timestamp": "2026-11-24T10:15:30.123456789Z",
    }

    replayed = play([notification])

    # Each message reached the agent; each read receipt went from the message's own number.
    # Ana's number is this sandbox's; the other one EUM named is unknown here, so its receipt
    # is refused: had every change taken the first listed number, Ana's would be refused too.
    assert {line["text"] for line in replayed.where(to="agent", kind="message")} == {
        "to the known number",
        "to the other one",
    }
    [read] = replayed.where(to="customer", kind="read")
    assert (read["customer"], read["reply_to"]) == (ANA, "wamid.T.1")


def test_a_click_to_whatsapp_ad_is_named_above_the_customers_first_words(play: Any) -> None:
    referral = {
        "source_url": "https://fb.me/example-ad",
        "source_id": "120000000000001",
        "source_type": "ad",
        "headline": "Winter sale",
        "body": "Half price",
        "media_type": "image",
        "image_url": "https://example.com/ad.jpg",
        "ctwa_clid": "clid-example",
    }
    replayed = play(
        [
            meta_webhook(
                {"from": ANA, "id": "wamid.AD.1", "type": "text",
                 "text": {"body": "Is it still on?"}, "referral": referral}
            )
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    [line] = replayed.where(to="agent", kind="message")
    assert line["text"] == (
        "📣 From an ad: «Winter sale» — https://fb.me/example-ad\nHalf price\nIs it still on?"
    )
