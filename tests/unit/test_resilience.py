"""Failures a review found: unexpected errors, retries after partial work, repeated events.

Each test runs the real services (and the entry functions) on the in-memory fakes; where a test
must see how often a remote operation was *attempted*, a small subclass of the fake counts it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.documents import connect_text, eum_texts
from tests.fakes_remote import RecordingConnectChat, RecordingWhatsApp
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.connect import (
    EVENT_PREFIX,
    AttachmentStatus,
    ConnectAttachment,
    ConnectEvent,
    EventType,
    ParticipantRole,
    Visibility,
)
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing, OutgoingMedia, OutgoingReaction, OutgoingText
from waconnect.domain.session import ChatSession
from waconnect.domain.whatsapp import BusinessNumber, Customer, InboundMessage, Media, MessageType
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.errors import SessionEnded, TransientError
from waconnect.media.policy import ConnectLimits
from waconnect.ports import LoggedMessage
from waconnect.services.feedback import FeedbackSettings

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
ANA = Customer(wa_id="15550100001", name="Ana")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
OGG = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead" + b"\x00" * 32


@dataclass
class CountingConnectChat(RecordingConnectChat):
    """The fake Connect chat, also counting every attachment upload it was asked for."""

    attachment_attempts: int = 0

    def send_attachment(
        self, connection_token: str, media: StoredMedia, *, name: str, client_token: str
    ) -> str:
        self.attachment_attempts += 1
        return super().send_attachment(
            connection_token, media, name=name, client_token=client_token
        )


@dataclass
class FlakyWhatsApp(RecordingWhatsApp):
    """The fake WhatsApp, failing once (transiently) on the first text containing ``marker``."""

    marker: str = ""
    attempts: list[str] = field(default_factory=list)

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        if isinstance(message, OutgoingText):
            self.attempts.append(message.text)
            if self.marker and self.marker in message.text:
                self.marker = ""
                raise TransientError("throttled", operation="SendWhatsAppMessage")
        return super().send(business, message)


class World(Ports):
    whatsapp: FlakyWhatsApp
    connect: CountingConnectChat

    def __init__(
        self,
        *,
        feedback: FeedbackSettings | None = None,
        limits: ConnectLimits | None = None,
        mark_read: bool = True,
    ) -> None:
        super().__init__(whatsapp=FlakyWhatsApp, connect=CountingConnectChat)
        self.inbound = inbound_service(self, feedback=feedback, limits=limits)
        self.outbound = outbound_service(self, mark_read=mark_read)
        self.bridge = Bridge(
            self.inbound,
            self.outbound,
            retry=RetryPolicy(attempts=2, delay=0.1),
            sleep=lambda _: None,
        )

    def open_chat(self) -> ChatSession:
        return self.open_chat_for(BUSINESS, ANA)


_counter = iter(range(1, 10_000))


def text(body: str) -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.resilience.{next(_counter)}",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.TEXT,
        wire_type="text",
        text=body,
    )


def photo(media_id: str, *, caption: str = "") -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.resilience.{next(_counter)}",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.IMAGE,
        wire_type="image",
        media=Media(media_id=media_id, mime_type="image/jpeg", caption=caption),
    )


def voice_note(media_id: str) -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.resilience.{next(_counter)}",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.AUDIO,
        wire_type="audio",
        media=Media(media_id=media_id, mime_type="audio/ogg; codecs=opus", voice=True),
    )


def agent_event(session: ChatSession, **fields: Any) -> ConnectEvent:
    defaults: dict[str, Any] = {
        "event_id": f"event-{next(_counter)}",
        "type": EventType.MESSAGE,
        "content_type": "text/plain",
        "contact_id": session.contact_id,
        "initial_contact_id": session.contact_id,
        "role": ParticipantRole.AGENT,
        "visibility": Visibility.ALL,
    }
    return ConnectEvent(**(defaults | fields))


def eum_document(*bodies: tuple[str, str]) -> dict[str, Any]:
    """An EUM notification carrying one text message per (wamid, body)."""
    return eum_texts(*bodies, wa_id=ANA.wa_id, name="Ana")


def lambda_sns_event(*messages: dict[str, Any]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {"Type": "Notification", "Message": json.dumps(m), "MessageAttributes": {}},
            }
            for m in messages
        ]
    }


def streaming_text(session: ChatSession, body: str, event_id: str) -> dict[str, Any]:
    return connect_text(body, contact_id=session.contact_id, event_id=event_id)


# ---- 1. unexpected errors --------------------------------------------------------------------


def test_unexpected_error_releases_the_claim_so_a_redelivery_reaches_the_agent() -> None:
    world = World()
    world.connect.fail_next(
        sqlite3.OperationalError("database is locked"), operation="send_message"
    )
    message = text("still here")

    with pytest.raises(sqlite3.OperationalError):
        world.inbound.handle_message(message)
    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["still here"]


def test_unexpected_error_in_an_agent_event_releases_its_claim() -> None:
    world = World()
    session = world.open_chat()
    world.whatsapp.fail_next(OSError("disk full"), operation="send")
    event = agent_event(session, content="hello Ana")

    with pytest.raises(OSError, match="disk full"):
        world.outbound.handle_agent_event(event)
    outcome = world.outbound.handle_agent_event(event)

    assert outcome.kind == "delivered"
    assert world.whatsapp.texts() == ["hello Ana"]


def test_one_broken_message_fails_alone_and_the_rest_of_the_document_is_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    world.connect.fail_next(KeyError("contact"), operation="start_chat")

    with caplog.at_level(logging.ERROR, logger="waconnect.entrypoints.bridge"):
        outcomes = world.bridge.handle_document(
            eum_document(("wamid.doc.1", "first"), ("wamid.doc.2", "second"))
        )

    assert [o.kind for o in outcomes] == ["failed", "delivered"]
    assert "KeyError" in outcomes[0].reason
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["second"]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.exc_info is not None
    # The broken message was not claimed for good: its redelivery reaches the agent.
    again = world.bridge.handle_document(eum_document(("wamid.doc.1", "first")))
    assert [o.kind for o in again] == ["delivered"]
    assert chat.messages() == ["second", "first"]


def test_one_broken_event_fails_alone_and_the_other_events_reach_the_customer() -> None:
    world = World()
    session = world.open_chat()
    world.whatsapp.fail_next(ConnectionResetError("reset"), operation="send")

    outcomes = world.bridge.handle_document(
        lambda_sns_event(
            streaming_text(session, "first", "event-doc-1"),
            streaming_text(session, "second", "event-doc-2"),
        )
    )

    assert [o.kind for o in outcomes] == ["failed", "delivered"]
    assert "ConnectionResetError" in outcomes[0].reason
    assert world.whatsapp.texts() == ["second"]


# ---- 2. finished parts are not sent again ----------------------------------------------------


def test_retry_after_the_caption_failed_does_not_upload_the_file_again() -> None:
    world = World()
    world.whatsapp.add_customer_media("2001", JPEG, "image/jpeg")
    message = photo("2001", caption="the receipt")
    world.connect.fail_next(TransientError("throttled"), operation="send_message")

    with pytest.raises(TransientError):
        world.inbound.handle_message(message)
    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    assert world.connect.attachment_attempts == 1
    [chat] = world.connect.chats.values()
    assert [e.kind for e in chat.transcript] == ["attachment", "message"]


def test_rerun_after_a_token_refresh_skips_the_file_already_attached() -> None:
    world = World()
    world.whatsapp.add_customer_media("2002", JPEG, "image/jpeg")
    message = photo("2002", caption="the receipt")
    world.connect.fail_next(SessionEnded("token refused"), operation="send_message")

    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    assert world.connect.attachment_attempts == 1
    [chat] = world.connect.chats.values()
    assert [e.kind for e in chat.transcript] == ["attachment", "message"]


def test_rerun_in_a_new_chat_sends_the_file_again_there() -> None:
    world = World()
    world.whatsapp.add_customer_media("2003", JPEG, "image/jpeg")
    message = photo("2003", caption="the receipt")
    assert world.inbound.handle_message(text("hello")).kind == "delivered"
    # The caption finds the chat over: the refresh is refused too, so a new chat is started.
    world.connect.fail_next(SessionEnded("chat over"), operation="send_message")
    world.connect.fail_next(SessionEnded("chat over"), operation="connect")

    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    old, new = world.connect.chat_of(ANA)
    assert [e.kind for e in old.transcript] == ["message", "attachment"]
    assert [e.kind for e in new.transcript] == ["attachment", "message"]
    assert outcome.contact_id == new.contact_id


# ---- 3. and 4. outbound parts and attachments once -------------------------------------------


def test_long_agent_text_retried_after_its_second_part_failed_sends_each_part_once() -> None:
    world = World()
    session = world.open_chat()
    long_text = ("word " * 900).strip() + " SECOND " + ("more " * 300).strip()
    world.whatsapp.marker = "SECOND"
    event = agent_event(session, content=long_text)

    with pytest.raises(TransientError):
        world.outbound.handle_agent_event(event)
    outcome = world.outbound.handle_agent_event(event)

    assert outcome.kind == "delivered"
    sent = world.whatsapp.texts()
    assert len(sent) == 2
    assert " ".join(sent).split() == long_text.split()
    assert world.outbound.handle_agent_event(event).kind == "duplicate"


def test_attachment_republished_under_a_new_event_id_is_sent_once() -> None:
    world = World()
    session = world.open_chat()
    attachment_id = world.connect.agent_attach(
        session.contact_id, name="photo.jpg", content_type="image/jpeg", data=JPEG
    )
    attachment = ConnectAttachment(
        attachment_id=attachment_id,
        name="photo.jpg",
        content_type="image/jpeg",
        status=AttachmentStatus.APPROVED,
    )
    first, second = (
        agent_event(
            session,
            type=EventType.ATTACHMENT,
            content_type="image/jpeg",
            attachments=(attachment,),
        )
        for _ in range(2)
    )

    outcomes = [world.outbound.handle_agent_event(e) for e in (first, second)]

    assert [o.kind for o in outcomes] == ["delivered", "duplicate"]
    assert len([m for _, m in world.whatsapp.sent if isinstance(m, OutgoingMedia)]) == 1


# ---- 5. converted audio over Connect's limit -------------------------------------------------


def test_voice_note_larger_than_the_limit_once_converted_reaches_the_agent_in_numbered_parts() -> (
    None
):
    padded = OGG + b"\x00" * 400
    # The note itself fits; the fake converter's WAV (header + input) does not, so it is split.
    world = World(limits=ConnectLimits(max_bytes=len(padded) + 10))
    world.whatsapp.add_customer_media("2004", padded, "audio/ogg")
    message = voice_note("2004")

    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    names = [entry.name for entry in chat.attachments()]
    assert len(names) == 2
    assert names[0].endswith("-1of2.wav")
    assert names[1].endswith("-2of2.wav")
    assert names[0].removesuffix("-1of2.wav") == names[1].removesuffix("-2of2.wav")
    assert chat.messages() == []


# ---- 6. typing indicator -----------------------------------------------------------------------


def test_typing_indicator_is_not_sent_when_read_receipts_are_off() -> None:
    world = World(mark_read=False)
    session = world.open_chat()
    world.log.remember(
        LoggedMessage.of(
            wamid="wamid.last", key=session.key, author="customer", text="hi", at=world.clock.now()
        )
    )
    typing = agent_event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "typing")

    outcome = world.outbound.handle_agent_event(typing)

    assert outcome.kind == "skipped"
    assert world.whatsapp.sent == []


# ---- 7. a failure reported after another worker took the message ------------------------------


def test_no_failure_is_told_when_another_worker_claimed_the_message_meanwhile() -> None:
    world = World()
    message = text("busy")
    world.connect.fail_next(TransientError("throttled"), operation="start_chat")
    with pytest.raises(TransientError):
        world.inbound.handle_message(message)
    # Another worker picks up the redelivery while this one is giving up.
    assert world.ledger.claim(f"whatsapp:{message.wamid}")

    outcome = world.inbound.report_failure(message, TransientError("throttled"))

    assert outcome.kind != "failed"
    assert world.whatsapp.sent == []


def test_failure_after_transient_errors_is_told_once_when_nobody_else_took_it() -> None:
    world = World()
    message = text("busy")
    world.connect.fail_next(TransientError("throttled"), operation="start_chat")
    with pytest.raises(TransientError):
        world.inbound.handle_message(message)

    outcome = world.inbound.report_failure(message, TransientError("throttled"))

    assert outcome.kind == "failed"
    reactions = [m for _, m in world.whatsapp.sent if isinstance(m, OutgoingReaction)]
    assert [r.emoji for r in reactions] == ["❌"]
