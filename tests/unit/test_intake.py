"""What the bridge refuses at the door, and what it lets through despite a bad neighbour."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from tests.fakes import InMemoryMediaStore
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.adapters.aws.eum import EumWhatsApp
from waconnect.domain.whatsapp import BusinessNumber
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.services.redact import mask

UNCONFIGURED = "100000000000009"
REASON = f"business number {UNCONFIGURED} is not configured (WACONNECT_EUM_PHONE_NUMBERS)"
PHONE_ID = "phone-number-id-0123456789abcdef0123456789abcdef"


class World(Ports):
    def __init__(self) -> None:
        super().__init__()
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )

    def agent_sees(self) -> list[str]:
        return [text for chat in self.connect.chats.values() for text in chat.messages()]


def webhook(phone_number_id: str, *messages: Any, **extra: Any) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000009", "phone_number_id": phone_number_id},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": "15550100001"}],
        "messages": list(messages),
        **extra,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
    }


def text(wamid: str, body: str = "Hello", wa_id: str = "15550100001") -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": "1764000001",
        "type": "text",
        "text": {"body": body},
    }


# ---- a business number the bridge cannot answer from ----------------------------------------


def test_a_message_to_an_unconfigured_number_fails_at_intake_and_opens_no_chat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    world.whatsapp.unreachable.add(UNCONFIGURED)

    with caplog.at_level(logging.ERROR, logger="waconnect.services.inbound"):
        [outcome] = world.bridge.handle_whatsapp_document(webhook(UNCONFIGURED, text("wamid.U1")))

    assert (outcome.kind, outcome.reason, outcome.wamid) == ("failed", REASON, "wamid.U1")
    assert world.connect.chats == {}
    assert world.whatsapp.sent == []
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"message {mask(outcome.wamid)} not taken: {REASON}"
    ]


def test_a_redelivery_after_the_number_is_configured_goes_through() -> None:
    world = World()
    world.whatsapp.unreachable.add(UNCONFIGURED)
    document = webhook(UNCONFIGURED, text("wamid.U2", "Is anyone there?"))
    world.bridge.handle_whatsapp_document(document)

    world.whatsapp.unreachable.clear()
    [outcome] = world.bridge.handle_whatsapp_document(document)

    assert outcome.kind == "delivered"
    assert world.agent_sees() == ["Is anyone there?"]


def test_other_numbers_in_the_same_document_are_unaffected() -> None:
    world = World()
    world.whatsapp.unreachable.add(UNCONFIGURED)
    document = webhook(UNCONFIGURED, text("wamid.U3"))
    document["entry"][0]["changes"].append(
        webhook("100000000000001", text("wamid.K1", "Hi there"))["entry"][0]["changes"][0]
    )

    outcomes = world.bridge.handle_whatsapp_document(document)

    assert {o.wamid: o.kind for o in outcomes} == {"wamid.U3": "failed", "wamid.K1": "delivered"}
    assert world.agent_sees() == ["Hi there"]


def eum_adapter(phone_numbers: dict[str, str]) -> tuple[EumWhatsApp, Stubber]:
    client = boto3.session.Session(
        aws_access_key_id="AKIDTESTEXAMPLE",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    ).client("socialmessaging", config=Config(retries={"total_max_attempts": 1}))
    adapter = EumWhatsApp(
        client, InMemoryMediaStore(), s3_bucket="example-bucket", phone_numbers=phone_numbers
    )
    return adapter, Stubber(client)


def test_the_eum_adapter_can_send_from_an_event_id_or_a_mapped_number_only() -> None:
    adapter, stub = eum_adapter({"100000000000002": PHONE_ID})

    with stub:
        answers = [
            adapter.can_send_from(
                BusinessNumber(meta_phone_number_id="100000000000001", aws_phone_number_id=PHONE_ID)
            ),
            adapter.can_send_from(BusinessNumber(meta_phone_number_id="100000000000002")),
            adapter.can_send_from(BusinessNumber(meta_phone_number_id=UNCONFIGURED)),
        ]

    assert answers == [True, True, False]
    # Asking is free: no End User Messaging call was made.
    stub.assert_no_pending_responses()


# ---- unreadable items next to readable ones ---------------------------------------------------


def test_the_bridge_delivers_the_readable_and_rejects_only_what_it_cannot_name() -> None:
    world = World()
    no_id = {"from": "15550100002", "timestamp": "1764000001", "type": "text"}
    bad_body = text("wamid.B1") | {"text": {"body": 42}}
    bad_status = {"id": "wamid.OUT1", "status": "read", "timestamp": "later"}
    document = webhook(
        "100000000000001", text("wamid.A1", "First"), no_id, bad_body, statuses=[bad_status]
    )

    outcomes = world.bridge.handle_whatsapp_document(json.dumps(document))

    assert [(o.kind, o.wamid) for o in outcomes] == [
        ("delivered", "wamid.A1"),
        ("delivered", "wamid.B1"),
        ("rejected", ""),
        ("rejected", ""),
    ]
    messages = "entry[0].changes[0].value"
    assert [o.reason for o in outcomes[2:]] == [
        f"meta: {messages}.messages[1].id: required field is missing",
        f"meta: {messages}.statuses[0].timestamp: expected an integer, got a non-numeric string",
    ]
    assert world.agent_sees() == [
        "First",
        "⚠️ The customer sent a text message that could not be read: "
        "text.body: expected a string, got a number\nWhat it held:\n• text.body: 42",
    ]
