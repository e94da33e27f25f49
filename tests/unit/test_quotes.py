"""Replies and reactions quote what they refer to, from the message log (not process memory)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from tests.fakes import FakeClock, InMemoryLedger, InMemoryMessageLog
from tests.fakes_remote import RecordingConverter, RecordingWhatsApp
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.connect import (
    AttachmentStatus,
    ConnectAttachment,
    ConnectEvent,
    EventType,
    ParticipantRole,
    Visibility,
)
from waconnect.domain.outgoing import Outgoing, ReadReceipt
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import (
    BusinessNumber,
    Context,
    Customer,
    InboundMessage,
    Media,
    MessageType,
    Reaction,
    Revision,
)
from waconnect.errors import TransientError
from waconnect.ports import LoggedMessage
from waconnect.services.inbound import InboundService

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
ANA = Customer(wa_id="15550100001", name="Ana")
BEN = Customer(wa_id="15550100002", name="Ben")
PDF = b"%PDF-1.7\n" + b"0" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EVENT_PREFIX = "application/vnd.amazonaws.connect.event."


@dataclass
class WamidKeepingWhatsApp(RecordingWhatsApp):
    """The recording fake, also keeping the wamid WhatsApp gave each message it sent."""

    wamids: list[tuple[Outgoing, str]] = field(default_factory=list)

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        wamid = super().send(business, message)
        self.wamids.append((message, wamid))
        return wamid


class FlakyMessageLog(InMemoryMessageLog):
    def remember(self, entry: LoggedMessage) -> None:
        raise TransientError("throttled", operation="PutItem", code="ThrottlingException")


class World(Ports):
    whatsapp: WamidKeepingWhatsApp

    def __init__(self, *, remember_snippets: bool = True, log: InMemoryMessageLog | None = None):
        super().__init__(whatsapp=WamidKeepingWhatsApp, log=log)
        self.inbound = inbound_service(self, remember_snippets=remember_snippets)
        self.outbound = outbound_service(self, remember_snippets=remember_snippets)
        self._count = 0

    def customer(
        self,
        *,
        text: str = "",
        customer: Customer = ANA,
        reply_to: str = "",
        reaction: Reaction | None = None,
        media: Media | None = None,
        kind: MessageType = MessageType.TEXT,
    ) -> InboundMessage:
        """The customer sends a message; returns it once the bridge has handled it."""
        self._count += 1
        message = InboundMessage(
            wamid=f"wamid.quote.{self._count}",
            business=BUSINESS,
            customer=customer,
            timestamp=1_764_000_000,
            type=MessageType.REACTION if reaction is not None else kind,
            wire_type="reaction" if reaction is not None else kind.value,
            text=text,
            reaction=reaction,
            media=media,
            context=Context(message_id=reply_to, from_=customer.wa_id) if reply_to else None,
        )
        assert self.inbound.handle_message(message).kind == "delivered"
        self.clock.advance(1)
        return message

    def session(self, customer: Customer = ANA) -> ChatSession:
        session = self.sessions.get(SessionKey.of(BUSINESS, customer))
        assert session is not None
        return session

    def agent(self, event: ConnectEvent) -> str:
        """The agent's event reaches the customer; returns the wamid WhatsApp gave it."""
        before = len(self.whatsapp.wamids)
        assert self.outbound.handle_agent_event(event).kind == "delivered"
        self.clock.advance(1)
        [(_, wamid)] = self.whatsapp.wamids[before:]
        return wamid

    def agent_text(self, text: str, customer: Customer = ANA) -> str:
        return self.agent(self._event(customer, content=text))

    def agent_file(self, name: str, content_type: str, data: bytes) -> str:
        session = self.session()
        attachment_id = self.connect.agent_attach(
            session.contact_id, name=name, content_type=content_type, data=data
        )
        attachment = ConnectAttachment(
            attachment_id=attachment_id,
            name=name,
            content_type=content_type,
            status=AttachmentStatus.APPROVED,
        )
        return self.agent(
            self._event(
                ANA, type=EventType.ATTACHMENT, content_type=content_type, attachments=(attachment,)
            )
        )

    def _event(
        self,
        customer: Customer,
        *,
        type: EventType = EventType.MESSAGE,
        content_type: str = "text/plain",
        content: str = "",
        attachments: tuple[ConnectAttachment, ...] = (),
    ) -> ConnectEvent:
        self._count += 1
        contact = self.session(customer).contact_id
        return ConnectEvent(
            event_id=f"event-{self._count}",
            type=type,
            content_type=content_type,
            contact_id=contact,
            initial_contact_id=contact,
            role=ParticipantRole.AGENT,
            content=content,
            visibility=Visibility.ALL,
            attachments=attachments,
        )

    def agent_sees(self, customer: Customer = ANA) -> list[str]:
        return self.connect.chats[self.session(customer).contact_id].messages()


def test_reply_to_a_customer_text_quotes_it() -> None:
    world = World()
    question = world.customer(text="Is the blue one in stock?")

    world.customer(text="Any news?", reply_to=question.wamid)

    assert world.agent_sees()[-1] == "↩ «Is the blue one in stock?»\nAny news?"


def test_reply_to_an_agent_text_quotes_the_agents_words() -> None:
    world = World()
    world.customer(text="Hello")
    answer = world.agent_text("Yes, two are left in size M.")

    world.customer(text="I'll take one", reply_to=answer)

    assert world.agent_sees()[-1] == "↩ «Yes, two are left in size M.»\nI'll take one"


def test_reaction_to_an_agent_text_names_the_agents_words() -> None:
    world = World()
    world.customer(text="Hello")
    answer = world.agent_text("Your refund is on its way.")

    world.customer(reaction=Reaction(message_id=answer, emoji="👍"))
    world.customer(reaction=Reaction(message_id=answer, emoji=""))

    assert world.agent_sees()[-2:] == [
        "reacted 👍 to: «Your refund is on its way.»",
        "removed their reaction to: «Your refund is on its way.»",
    ]


def test_reaction_to_an_agent_file_names_the_file() -> None:
    world = World()
    world.customer(text="Hello")
    brochure = world.agent_file("terms.pdf", "application/pdf", PDF)

    world.customer(reaction=Reaction(message_id=brochure, emoji="🙏"))

    assert world.agent_sees()[-1] == "reacted 🙏 to: «📎 terms.pdf»"


def test_reaction_to_an_agents_wav_names_it_as_the_agent_sent_it_not_as_converted() -> None:
    world = World()
    world.customer(text="Hello")
    # The customer receives the WAV as an OGG/Opus voice note; the agent knows it as reply.wav.
    voice = world.agent_file("reply.wav", "audio/wav", WAV)

    world.customer(reaction=Reaction(message_id=voice, emoji="👍"))

    assert world.agent_sees()[-1] == "reacted 👍 to: «📎 reply.wav»"


def test_reply_to_a_photo_without_caption_quotes_the_name_the_agent_saw() -> None:
    world = World()
    world.whatsapp.add_customer_media("2001", JPEG, "image/jpeg")
    photo = world.customer(
        kind=MessageType.IMAGE, media=Media(media_id="2001", mime_type="image/jpeg")
    )

    world.customer(text="That is the damage", reply_to=photo.wamid)

    quote, text = world.agent_sees()[-1].split("\n")
    assert re.fullmatch(r"↩ «📎 photo-2025-11-24-160000-[0-9a-f]{4}\.jpg»", quote)
    assert text == "That is the damage"


def test_long_agent_text_is_quoted_shortened_on_a_word_boundary() -> None:
    world = World()
    world.customer(text="Hello")
    words = "We have checked your order and the parcel left our warehouse this morning. " * 3
    answer = world.agent_text(words)

    world.customer(text="Thanks", reply_to=answer)

    quote, said = world.agent_sees()[-1].split("\n")
    assert quote.startswith("↩ «We have checked your order and the parcel left our warehouse")
    assert quote.endswith("…»")
    assert len(quote) < len(words)
    assert said == "Thanks"


def test_reply_to_an_unknown_message_says_it_replies_to_an_earlier_message() -> None:
    world = World()

    world.customer(text="Any news?", reply_to="wamid.from.last.month")

    assert world.agent_sees() == ["↩ replying to an earlier message\nAny news?"]


def test_reaction_to_an_unknown_message_names_an_earlier_message() -> None:
    world = World()

    world.customer(reaction=Reaction(message_id="wamid.from.last.month", emoji="❤️"))

    assert world.agent_sees() == ["reacted ❤️ to an earlier message"]


def test_a_quote_never_shows_another_customers_words() -> None:
    world = World()
    secret = world.customer(text="My card ends in 4242", customer=BEN)

    world.customer(text="Same here", reply_to=secret.wamid)

    assert world.agent_sees(ANA) == ["↩ replying to an earlier message\nSame here"]


def test_an_edit_naming_another_customers_message_never_changes_their_words() -> None:
    world = World()
    mine = world.customer(text="Deliver to 1 Main St", customer=BEN)
    world.clock.advance(1)
    forged = InboundMessage(
        wamid="wamid.quote.forged",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.EDIT,
        wire_type="edit",
        revision=Revision(
            original_message_id=mine.wamid,
            new=replace(mine, customer=ANA, text="Deliver to 9 Elm St"),
        ),
    )
    assert world.inbound.handle_message(forged).kind == "delivered"

    world.customer(text="Still there?", customer=BEN, reply_to=mine.wamid)

    assert world.agent_sees(BEN)[-1] == "↩ «Deliver to 1 Main St»\nStill there?"


def test_a_quote_remembered_by_one_bridge_process_is_shown_by_another() -> None:
    world = World()
    question = world.customer(text="Where is my parcel?")
    other_process = InboundService(
        replace(
            world.wiring(),
            ledger=InMemoryLedger(clock=world.clock),
            converter=RecordingConverter(world.store),
        )
    )
    reply = InboundMessage(
        wamid="wamid.quote.other-process",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_100,
        type=MessageType.TEXT,
        wire_type="text",
        text="Hello?",
        context=Context(message_id=question.wamid, from_=ANA.wa_id),
    )

    assert other_process.handle_message(reply).kind == "delivered"

    assert world.agent_sees()[-1] == "↩ «Where is my parcel?»\nHello?"


def test_with_snippets_off_nothing_is_quoted_and_no_words_are_kept() -> None:
    world = World(remember_snippets=False)
    question = world.customer(text="Is the blue one in stock?")
    answer = world.agent_text("Yes, two are left.")

    world.customer(text="Any news?", reply_to=question.wamid)
    world.customer(reaction=Reaction(message_id=answer, emoji="👍"))

    assert world.agent_sees()[-2:] == [
        "↩ replying to an earlier message\nAny news?",
        "reacted 👍 to an earlier message",
    ]
    assert world.log.entries
    assert {entry.snippet for entry in world.log.entries.values()} == {""}


def test_typing_shows_on_the_customers_latest_message_even_with_snippets_off() -> None:
    world = World(remember_snippets=False)
    world.customer(text="First")
    latest = world.customer(text="Second")
    answer = world.agent_text("One moment")
    world.customer(reaction=Reaction(message_id=answer, emoji="👍"))

    world.agent(world._event(ANA, type=EventType.EVENT, content_type=EVENT_PREFIX + "typing"))

    assert world.whatsapp.sent[-1] == (
        BUSINESS,
        ReadReceipt(message_id=latest.wamid, typing=True),
    )


def test_a_log_that_fails_loses_only_the_quote_never_the_message() -> None:
    clock = FakeClock()
    world = World(log=FlakyMessageLog(clock=clock))

    question = world.customer(text="Is the blue one in stock?")
    answer = world.agent_text("Yes.")
    world.customer(text="Great", reply_to=question.wamid)

    assert world.agent_sees() == [
        "Is the blue one in stock?",
        "↩ replying to an earlier message\nGreat",
    ]
    assert answer
    assert len([m for m, _ in world.whatsapp.wamids if getattr(m, "text", "") == "Yes."]) == 1
