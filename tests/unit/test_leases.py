"""Leased claims in the services: work another worker holds is deferred, work a dead worker
left is taken over after its lease, and a WhatsApp send is never repeated blindly."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from tests.fakes_remote import RecordingConnectChat, RecordingWhatsApp
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.connect import ConnectEvent, EventType, ParticipantRole, Visibility
from waconnect.domain.outgoing import Outgoing, OutgoingText
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import BusinessNumber, Customer, InboundMessage, MessageType
from waconnect.errors import Kind, TransientError, Unconfirmed
from waconnect.services.client_tokens import client_token

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
ANA = Customer(wa_id="15550100001", name="Ana")
LEASE = 90.0


@dataclass
class ScriptedWhatsApp(RecordingWhatsApp):
    """The fake WhatsApp, answering the next text sends with the errors queued, then normally."""

    errors: list[Exception] = field(default_factory=list)
    attempts: int = 0

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        if isinstance(message, OutgoingText):
            self.attempts += 1
            if self.errors:
                error = self.errors.pop(0)
                if isinstance(error, Unconfirmed):
                    super().send(business, message)  # it went out; the answer did not come
                raise error
        return super().send(business, message)


class World(Ports):
    whatsapp: ScriptedWhatsApp
    connect: RecordingConnectChat

    def __init__(self) -> None:
        super().__init__(whatsapp=ScriptedWhatsApp)
        self.inbound = inbound_service(self, lease_seconds=LEASE)
        self.outbound = outbound_service(self, lease_seconds=LEASE)


def text(wamid: str, body: str) -> InboundMessage:
    return InboundMessage(
        wamid=wamid,
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.TEXT,
        wire_type="text",
        text=body,
    )


def agent_text(session: ChatSession, body: str, event_id: str) -> ConnectEvent:
    fields: dict[str, Any] = {
        "event_id": event_id,
        "type": EventType.MESSAGE,
        "content_type": "text/plain",
        "content": body,
        "contact_id": session.contact_id,
        "initial_contact_id": session.contact_id,
        "role": ParticipantRole.AGENT,
        "visibility": Visibility.ALL,
    }
    return ConnectEvent(**fields)


def long_text() -> str:
    """Three parts' worth of words, so the message is sent in three requests."""
    return " ".join(f"word{n}" for n in range(CONNECT_TEXT_LIMIT * 3 // 7))


def test_a_message_another_worker_holds_is_deferred_and_nothing_is_sent() -> None:
    world = World()
    world.ledger.lease("whatsapp:wamid.held", seconds=LEASE)

    outcome = world.inbound.handle_message(text("wamid.held", "hello"))

    assert outcome.kind == "deferred"
    assert 0 < outcome.retry_after <= LEASE
    assert world.connect.chats == {}


def test_a_customer_another_worker_serves_is_deferred() -> None:
    world = World()
    world.ledger.lease(f"customer:{SessionKey.of(BUSINESS, ANA)}", seconds=LEASE)

    outcome = world.inbound.handle_message(text("wamid.other", "hello"))

    assert outcome.kind == "deferred"
    assert world.connect.chats == {}


def test_a_dead_workers_message_is_taken_over_after_the_lease_sending_only_missing_parts() -> None:
    world = World()
    message = text("wamid.crashed", long_text())
    # The dead worker opened the chat and sent the first part, then died before finishing.
    session = world.open_chat_for(BUSINESS, ANA)
    world.ledger.lease("whatsapp:wamid.crashed", seconds=LEASE)
    first_token = client_token(message.wamid, "text", part=0, generation=session.generation)
    world.connect.send_message(
        session.connection_token, text="(part one)", client_token=first_token
    )
    world.ledger.finish(f"done:{first_token}")

    assert world.inbound.handle_message(message).kind == "deferred"
    world.clock.advance(LEASE)
    outcome = world.inbound.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    parts = split_text(long_text(), CONNECT_TEXT_LIMIT)
    assert len(parts) >= 3
    assert chat.messages() == ["(part one)", *parts[1:]]
    assert world.inbound.handle_message(message).kind == "duplicate"


def test_a_finished_message_stays_a_duplicate_after_its_lease() -> None:
    world = World()
    message = text("wamid.once", "hello")
    assert world.inbound.handle_message(message).kind == "delivered"
    world.clock.advance(LEASE * 10)
    assert world.inbound.handle_message(message).kind == "duplicate"
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["hello"]


def test_a_throttled_send_is_sent_exactly_once_on_retry() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    world.whatsapp.errors = [
        TransientError("throttled", operation="SendWhatsAppMessage", kind=Kind.THROTTLED)
    ] * 3
    event = agent_text(session, "your order shipped", "event-throttled")

    for _ in range(3):
        with contextlib.suppress(TransientError):
            world.outbound.handle_agent_event(event)
    outcome = world.outbound.handle_agent_event(event)

    assert outcome.kind == "delivered"
    assert world.whatsapp.texts() == ["your order shipped"]
    assert world.whatsapp.attempts == 4


def test_an_unconfirmed_send_is_not_repeated_and_the_agent_hears_it_may_not_have_arrived() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    world.whatsapp.errors = [Unconfirmed("read timeout", operation="SendWhatsAppMessage")]
    event = agent_text(session, "your order shipped", "event-slow")

    outcome = world.outbound.handle_agent_event(event)
    again = world.outbound.handle_agent_event(event)

    assert outcome.kind == "failed"
    assert again.kind == "duplicate"
    assert world.whatsapp.texts() == ["your order shipped"]
    assert world.whatsapp.attempts == 1
    [chat] = world.connect.chats.values()
    assert any("may not have reached the customer" in m for m in chat.messages())


def test_a_send_a_dead_worker_may_have_made_is_not_made_again() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    event = agent_text(session, "see you tomorrow", "event-crashed")
    # The dead worker leased the step and marked the send before it left, then died.
    world.ledger.lease("connect:event-crashed:0", seconds=LEASE)
    world.ledger.claim("sending:connect:event-crashed:0")

    assert world.outbound.handle_agent_event(event).kind == "deferred"
    world.clock.advance(LEASE)
    outcome = world.outbound.handle_agent_event(event)

    # Settled as sent (it most likely went), without a second copy on the phone.
    assert outcome.kind == "delivered"
    assert world.whatsapp.attempts == 0
    assert world.outbound.handle_agent_event(event).kind == "duplicate"


def test_an_agent_step_whose_worker_died_before_sending_is_sent_after_the_lease() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    event = agent_text(session, "see you tomorrow", "event-early-crash")
    world.ledger.lease("connect:event-early-crash:0", seconds=LEASE)

    world.clock.advance(LEASE)
    outcome = world.outbound.handle_agent_event(event)

    assert outcome.kind == "delivered"
    assert world.whatsapp.texts() == ["see you tomorrow"]
