"""Connect streaming fixtures parse the same bare, in an SNS envelope and in a Lambda event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from waconnect.domain.connect import AttachmentStatus, EventType, ParticipantRole, Visibility
from waconnect.wire.connect_stream import build_connect_envelope
from waconnect.wire.inbound import classify, parse_connect_document
from waconnect.wire.sns import build_lambda_event

EVENTS = Path(__file__).resolve().parents[1] / "events" / "connect"
C0 = "aaaaaaaa-0000-4000-8000-000000000000"
C1 = "aaaaaaaa-0000-4000-8000-000000000001"


def envelope(scenario: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{scenario}.json").read_text())


# scenario -> (type, role, event name or content type, visibility, goes to the customer)
CASES: dict[str, tuple[EventType, ParticipantRole, str, Visibility, bool]] = {
    "agent_text": (EventType.MESSAGE, ParticipantRole.AGENT, "text/plain", Visibility.ALL, True),
    "agent_markdown": (
        EventType.MESSAGE,
        ParticipantRole.AGENT,
        "text/markdown",
        Visibility.ALL,
        True,
    ),
    "agent_interactive": (
        EventType.MESSAGE,
        ParticipantRole.AGENT,
        "application/vnd.amazonaws.connect.message.interactive",
        Visibility.ALL,
        True,
    ),
    "attachment_approved": (
        EventType.ATTACHMENT,
        ParticipantRole.AGENT,
        "application/pdf",
        Visibility.ALL,
        True,
    ),
    "attachment_rejected": (
        EventType.ATTACHMENT,
        ParticipantRole.AGENT,
        "image/png",
        Visibility.ALL,
        True,
    ),
    "attachment_in_progress": (
        EventType.ATTACHMENT,
        ParticipantRole.AGENT,
        "image/jpeg",
        Visibility.ALL,
        True,
    ),
    "typing": (EventType.EVENT, ParticipantRole.AGENT, "typing", Visibility.ALL, True),
    "agent_joined": (
        EventType.EVENT,
        ParticipantRole.AGENT,
        "participant.joined",
        Visibility.ALL,
        True,
    ),
    "agent_left": (
        EventType.EVENT,
        ParticipantRole.AGENT,
        "participant.left",
        Visibility.ALL,
        True,
    ),
    "customer_joined": (
        EventType.EVENT,
        ParticipantRole.CUSTOMER,
        "participant.joined",
        Visibility.ALL,
        False,
    ),
    "customer_left": (
        EventType.EVENT,
        ParticipantRole.CUSTOMER,
        "participant.left",
        Visibility.ALL,
        False,
    ),
    "chat_ended": (EventType.EVENT, ParticipantRole.UNKNOWN, "chat.ended", Visibility.ALL, True),
    "message_read": (EventType.EVENT, ParticipantRole.AGENT, "message.read", Visibility.ALL, True),
    "message_delivered": (
        EventType.EVENT,
        ParticipantRole.AGENT,
        "message.delivered",
        Visibility.ALL,
        True,
    ),
    "customer_echo": (
        EventType.MESSAGE,
        ParticipantRole.CUSTOMER,
        "text/plain",
        Visibility.ALL,
        False,
    ),
    "no_visibility": (EventType.MESSAGE, ParticipantRole.AGENT, "text/plain", Visibility.ALL, True),
    "visibility_agent": (
        EventType.MESSAGE,
        ParticipantRole.SYSTEM,
        "text/plain",
        Visibility.AGENT,
        False,
    ),
    "visibility_customer": (
        EventType.MESSAGE,
        ParticipantRole.SYSTEM,
        "text/plain",
        Visibility.CUSTOMER,
        True,
    ),
    "bot_text": (EventType.MESSAGE, ParticipantRole.CUSTOM_BOT, "text/plain", Visibility.ALL, True),
}

ATTACHMENTS = {
    "attachment_approved": ("invoice-1234.pdf", AttachmentStatus.APPROVED),
    "attachment_rejected": ("screenshot.png", AttachmentStatus.REJECTED),
    "attachment_in_progress": ("photo.jpg", AttachmentStatus.IN_PROGRESS),
}


def test_every_connect_fixture_has_expectations() -> None:
    assert {p.stem for p in EVENTS.glob("*.json")} == set(CASES)


@pytest.mark.parametrize("form", ["sns-envelope", "lambda-sns"])
@pytest.mark.parametrize("scenario", sorted(CASES))
def test_connect_fixture_parses_with_routing_facts(scenario: str, form: str) -> None:
    doc = envelope(scenario)
    if form == "lambda-sns":
        doc = build_lambda_event([doc])
    assert classify(doc) == "connect"
    [event] = parse_connect_document(doc)
    kind, role, what, visibility, for_customer = CASES[scenario]
    assert event.type is kind
    assert event.role is role
    assert what in (event.event_name or event.content_type, event.content_type)
    assert event.visibility is visibility
    assert event.for_customer is for_customer
    assert event.session_ids == (C0, C1)
    assert event.instance_id == "11111111-2222-4333-8444-555555555555"
    if scenario in ATTACHMENTS:
        [attachment] = event.attachments
        assert (attachment.name, attachment.status) == ATTACHMENTS[scenario]


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_bare_connect_message_parses_without_attributes_as_visible_to_all(scenario: str) -> None:
    bare = json.loads(envelope(scenario)["Message"])
    [event] = parse_connect_document(json.dumps(bare).encode())
    assert event.visibility is Visibility.ALL
    assert event.instance_id == ""
    assert event.contact_id == C1


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_connect_envelope_builder_round_trips(scenario: str) -> None:
    [event] = parse_connect_document(envelope(scenario))
    rebuilt = build_connect_envelope(
        event,
        topic_arn="arn:aws:sns:us-east-1:123456789012:waconnect-connect-streaming",
        account_id="123456789012",
        message_id="0b5f3c7e-1d2a-4e8b-9c6d-000000000099",
        timestamp="2026-11-24T10:16:00.000Z",
    )
    assert {
        "Type",
        "MessageId",
        "TopicArn",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
        "MessageAttributes",
    } <= set(rebuilt)
    attributes = rebuilt["MessageAttributes"]
    assert attributes["MessageVisibility"] == {"Type": "String", "Value": event.visibility.value}
    assert attributes["AccountId"]["Value"] == "123456789012"
    assert parse_connect_document(rebuilt) == [event]


def test_agent_text_keeps_content_and_sender() -> None:
    [event] = parse_connect_document(envelope("agent_text"))
    assert event.content == "Thanks Ana, looking now."
    assert event.display_name == "Sam (agent)"
    assert event.absolute_time == "2026-11-24T10:16:01.000Z"
