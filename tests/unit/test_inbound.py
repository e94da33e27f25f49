"""Customer → agent: each rule of the inbound use case, on in-memory fakes."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from typing import TypeVar

import pytest
from tests.worlds import Ports, inbound_service

from waconnect.domain.outgoing import OutgoingReaction, OutgoingText, ReadReceipt
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import (
    BusinessNumber,
    Customer,
    InboundBatch,
    InboundMessage,
    Location,
    Media,
    MessageType,
    StatusKind,
    StatusUpdate,
)
from waconnect.errors import PermanentError, SessionEnded, TransientError
from waconnect.services.feedback import FeedbackSettings

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
T = TypeVar("T")
ANA = Customer(wa_id="15550100001", name="Ana")
BEN = Customer(wa_id="15550100002", name="Ben")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
OGG = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead" + b"\x00" * 32
WEBP = b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 32


class World(Ports):
    def __init__(
        self, *, feedback: FeedbackSettings | None = None, remember_snippets: bool = True
    ) -> None:
        super().__init__()
        self.service = inbound_service(
            self,
            feedback=FeedbackSettings() if feedback is None else feedback,
            remember_snippets=remember_snippets,
        )

    def session(self, customer: Customer = ANA) -> ChatSession | None:
        return self.sessions.get(SessionKey.of(BUSINESS, customer))


_counter = iter(range(1, 10_000))


def text(body: str, customer: Customer = ANA, wamid: str = "") -> InboundMessage:
    return InboundMessage(
        wamid=wamid or f"wamid.test.{next(_counter)}",
        business=BUSINESS,
        customer=customer,
        timestamp=1_764_000_000,
        type=MessageType.TEXT,
        wire_type="text",
        text=body,
    )


def media_message(
    kind: MessageType,
    media_id: str,
    *,
    mime_type: str,
    caption: str = "",
    filename: str = "",
    voice: bool = False,
    customer: Customer = ANA,
) -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.test.{next(_counter)}",
        business=BUSINESS,
        customer=customer,
        timestamp=1_764_000_000,
        type=kind,
        wire_type=kind.value,
        media=Media(
            media_id=media_id,
            mime_type=mime_type,
            caption=caption,
            filename=filename,
            voice=voice,
        ),
    )


def sent_of(world: World, kind: type[T]) -> list[T]:
    return [m for _, m in world.whatsapp.sent if isinstance(m, kind)]


# ---- text and sessions --------------------------------------------------------------------


def test_first_text_opens_a_chat_and_reaches_the_agent() -> None:
    world = World()

    [outcome] = world.service.handle_customer_messages(
        InboundBatch(source="eum", messages=(text("Hello!"),))
    )

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["Hello!"]
    assert chat.customer == ANA
    assert outcome.contact_id == chat.contact_id
    session = world.session()
    assert session is not None
    assert session.contact_id == chat.contact_id
    assert session.generation == 1
    assert session.connection_token == chat.connection_tokens[-1]


def test_delivered_message_is_marked_read() -> None:
    world = World()
    message = text("Hello!")

    world.service.handle_message(message)

    assert sent_of(world, ReadReceipt) == [ReadReceipt(message_id=message.wamid)]
    assert sent_of(world, OutgoingReaction) == []


def test_later_messages_go_to_the_same_chat_in_order() -> None:
    world = World()
    batch = InboundBatch(source="eum", messages=(text("one"), text("two"), text("three")))

    world.service.handle_customer_messages(batch)

    [chat] = world.connect.chats.values()
    assert chat.messages() == ["one", "two", "three"]


def test_each_customer_has_their_own_chat() -> None:
    world = World()

    world.service.handle_message(text("from Ana", ANA))
    world.service.handle_message(text("from Ben", BEN))

    assert [c.messages() for c in world.connect.chat_of(ANA)] == [["from Ana"]]
    assert [c.messages() for c in world.connect.chat_of(BEN)] == [["from Ben"]]


def test_text_over_1024_characters_arrives_in_parts_in_order() -> None:
    world = World()
    body = " ".join(f"word{i:04d}" for i in range(400))  # about 3,600 characters

    world.service.handle_message(text(body))

    [chat] = world.connect.chats.values()
    parts = chat.messages()
    assert len(parts) == 4
    assert all(len(p) <= 1024 for p in parts)
    assert " ".join(parts).split() == body.split()


def test_the_split_length_is_a_setting() -> None:
    world = World()
    world.service = inbound_service(world, connect_text_limit=500)
    body = " ".join(f"word{i:04d}" for i in range(400))  # about 3,600 characters

    world.service.handle_message(text(body))

    [chat] = world.connect.chats.values()
    parts = chat.messages()
    assert len(parts) == 8
    assert all(len(p) <= 500 for p in parts)
    assert " ".join(parts).split() == body.split()


def test_duplicate_wamid_is_dropped() -> None:
    world = World()
    message = text("Hello!")

    first = world.service.handle_message(message)
    second = world.service.handle_message(message)

    assert (first.kind, second.kind) == ("delivered", "duplicate")
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["Hello!"]
    assert len(sent_of(world, ReadReceipt)) == 1


def test_location_reaches_the_agent_as_readable_text() -> None:
    world = World()
    message = InboundMessage(
        wamid="wamid.test.location",
        business=BUSINESS,
        customer=ANA,
        timestamp=1_764_000_000,
        type=MessageType.LOCATION,
        wire_type="location",
        location=Location(latitude=51.5007, longitude=-0.1246, name="Big Ben"),
    )

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    [rendered] = chat.messages()
    assert "Big Ben" in rendered
    assert "51.5007" in rendered


# ---- connection lifecycle -----------------------------------------------------------------


def test_connection_is_refreshed_before_it_expires() -> None:
    world = World()
    world.service.handle_message(text("first"))
    before = world.session()
    assert before is not None
    world.clock.advance(before.connection_expiry - world.clock.now() - 60)

    world.service.handle_message(text("second"))

    after = world.session()
    assert after is not None
    [chat] = world.connect.chats.values()
    assert after.contact_id == before.contact_id
    assert after.connection_token != before.connection_token
    assert len(chat.connection_tokens) == 2
    assert chat.messages() == ["first", "second"]


def test_expired_token_is_refreshed_and_the_same_contact_continues() -> None:
    world = World()
    world.service.handle_message(text("first"))
    [chat] = world.connect.chats.values()
    world.connect.expire_connections(chat.contact_id)

    outcome = world.service.handle_message(text("second"))

    assert outcome.kind == "delivered"
    assert list(world.connect.chats) == [chat.contact_id]
    assert chat.messages() == ["first", "second"]
    session = world.session()
    assert session is not None
    assert session.generation == 1
    assert session.connection_token == chat.connection_tokens[-1]


def test_ended_chat_is_replaced_by_a_new_contact_that_gets_the_message() -> None:
    world = World()
    world.service.handle_message(text("first"))
    [old] = world.connect.chats.values()
    world.connect.end_chat(old.contact_id)

    outcome = world.service.handle_message(text("after the end"))

    assert outcome.kind == "delivered"
    old_chat, new_chat = world.connect.chat_of(ANA)
    assert old_chat.messages() == ["first"]
    assert new_chat.messages() == ["after the end"]
    session = world.session()
    assert session is not None
    assert session.contact_id == new_chat.contact_id
    assert session.generation == 2
    assert outcome.contact_id == new_chat.contact_id


def test_chat_closed_by_an_event_is_not_reused() -> None:
    world = World()
    world.service.handle_message(text("first"))
    session = world.session()
    assert session is not None
    world.sessions.save(session.closed())

    world.service.handle_message(text("second"))

    assert [c.messages() for c in world.connect.chat_of(ANA)] == [["first"], ["second"]]


def test_new_chat_refused_too_is_a_failure_told_to_the_customer() -> None:
    world = World()
    world.service.handle_message(text("first"))
    [old] = world.connect.chats.values()
    world.connect.end_chat(old.contact_id)
    refused = SessionEnded("refused", operation="CreateParticipantConnection")
    world.connect.fail_next(refused, operation="connect", times=2)
    message = text("lost?")

    outcome = world.service.handle_message(message)

    assert outcome.kind == "failed"
    assert outcome.failure is not None
    assert OutgoingReaction(to=ANA, message_id=message.wamid, emoji="❌") in sent_of(
        world, OutgoingReaction
    )
    assert any(t.reply_to == message.wamid for t in sent_of(world, OutgoingText))
    assert all("lost?" not in c.messages() for c in world.connect.chats.values())


# ---- media --------------------------------------------------------------------------------


def test_photo_with_caption_arrives_as_attachment_then_caption_then_feedback() -> None:
    world = World()
    world.whatsapp.add_customer_media("1001", JPEG, "image/jpeg")
    message = media_message(MessageType.IMAGE, "1001", mime_type="image/jpeg", caption="Receipt")

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert [e.kind for e in chat.transcript] == ["attachment", "message"]
    [attachment] = chat.attachments()
    assert attachment.data == JPEG
    assert attachment.name.endswith(".jpg")
    assert attachment.content_type == "image/jpeg"
    assert chat.messages() == ["Receipt"]
    feedback = [m for _, m in world.whatsapp.sent]
    assert feedback == [
        ReadReceipt(message_id=message.wamid),
        OutgoingReaction(to=ANA, message_id=message.wamid, emoji="📎"),
    ]


def test_first_message_that_is_a_file_opens_the_chat_and_is_attached() -> None:
    world = World()
    world.whatsapp.add_customer_media("1002", PDF, "application/pdf")
    message = media_message(
        MessageType.DOCUMENT, "1002", mime_type="application/pdf", filename="invoice 12.pdf"
    )

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert attachment.name == "invoice 12.pdf"
    assert attachment.data == PDF
    assert world.store.find(f"inbound/{message.wamid}/") is not None


def test_declared_type_loses_to_the_bytes() -> None:
    world = World()
    world.whatsapp.add_customer_media("1003", PDF, "image/jpeg")
    message = media_message(MessageType.DOCUMENT, "1003", mime_type="image/jpeg", filename="x")

    world.service.handle_message(message)

    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert attachment.content_type == "application/pdf"
    assert attachment.name.endswith(".pdf")


def test_voice_note_is_converted_to_wav_before_it_is_attached() -> None:
    world = World()
    world.whatsapp.add_customer_media("1004", OGG, "audio/ogg; codecs=opus")
    message = media_message(
        MessageType.AUDIO, "1004", mime_type="audio/ogg; codecs=opus", voice=True
    )

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    assert [target for _, target in world.converter.conversions] == ["wav16k"]
    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert attachment.name.endswith(".wav")
    assert attachment.content_type == "audio/wav"
    assert attachment.data.startswith(b"RIFF")
    assert attachment.data.endswith(OGG)
    assert OutgoingReaction(to=ANA, message_id=message.wamid, emoji="📎") in sent_of(
        world, OutgoingReaction
    )


def test_a_sticker_reaches_the_agent_converted_to_png() -> None:
    world = World()
    world.whatsapp.add_customer_media("1005", WEBP, "image/webp")
    message = media_message(MessageType.STICKER, "1005", mime_type="image/webp")

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    assert [target for _, target in world.converter.conversions] == ["png"]
    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert attachment.name.startswith("sticker-")
    assert attachment.name.endswith(".png")


def test_file_connect_refuses_reaches_the_agent_as_a_notice_without_a_paperclip() -> None:
    world = World()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("notes/readme.txt", "hello")
    world.whatsapp.add_customer_media("1005", archive.getvalue(), "application/zip")
    message = media_message(MessageType.DOCUMENT, "1005", mime_type="application/zip")

    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert chat.attachments() == []
    [notice] = chat.messages()
    assert ".zip" in notice
    assert sent_of(world, OutgoingReaction) == []
    assert sent_of(world, ReadReceipt) == [ReadReceipt(message_id=message.wamid)]


# ---- errors and feedback ------------------------------------------------------------------


def test_transient_error_releases_the_claim_so_a_retry_delivers_once() -> None:
    world = World()
    world.connect.fail_next(TransientError("throttled"), operation="send_message")
    message = text("retry me")

    with pytest.raises(TransientError):
        world.service.handle_message(message)
    outcome = world.service.handle_message(message)

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["retry me"]


def test_retry_after_a_partial_delivery_repeats_nothing_the_agent_has() -> None:
    world = World()
    world.whatsapp.add_customer_media("1006", JPEG, "image/jpeg")
    message = media_message(MessageType.IMAGE, "1006", mime_type="image/jpeg", caption="cap")
    # The file goes through; the caption after it is throttled.
    world.connect.fail_next(TransientError("throttled"), operation="send_message")

    with pytest.raises(TransientError):
        world.service.handle_message(message)
    world.service.handle_message(message)

    [chat] = world.connect.chats.values()
    assert [e.kind for e in chat.transcript] == ["attachment", "message"]


def test_permanent_error_tells_customer_and_agent_and_keeps_the_claim() -> None:
    world = World()
    world.service.handle_message(text("hello"))
    message = media_message(MessageType.IMAGE, "missing", mime_type="image/jpeg")

    outcome = world.service.handle_message(message)
    again = world.service.handle_message(message)

    assert outcome.kind == "failed"
    assert outcome.failure is not None
    assert again.kind == "duplicate"
    assert OutgoingReaction(to=ANA, message_id=message.wamid, emoji="❌") in sent_of(
        world, OutgoingReaction
    )
    customer_texts = [t for t in sent_of(world, OutgoingText) if t.reply_to == message.wamid]
    assert [t.text for t in customer_texts] == [outcome.failure.customer_text]
    [chat] = world.connect.chats.values()
    assert chat.messages()[-1] == outcome.failure.agent_text[:1024]


def test_feedback_can_be_turned_off() -> None:
    quiet = FeedbackSettings(
        mark_read=False, file_reaction="", failure_reaction="", failure_text=False
    )
    world = World(feedback=quiet)
    world.whatsapp.add_customer_media("1007", JPEG, "image/jpeg")

    world.service.handle_message(media_message(MessageType.IMAGE, "1007", mime_type="image/jpeg"))
    world.service.handle_message(media_message(MessageType.IMAGE, "gone", mime_type="image/jpeg"))

    assert world.whatsapp.sent == []


def test_feedback_that_fails_does_not_fail_the_delivered_message() -> None:
    world = World()
    world.whatsapp.fail_next(PermanentError("refused"), operation="send")

    outcome = world.service.handle_message(text("hello"))

    assert outcome.kind == "delivered"


def test_statuses_are_only_acknowledged() -> None:
    world = World()
    status = StatusUpdate(
        wamid="wamid.out.1",
        business=BUSINESS,
        status=StatusKind.DELIVERED,
        timestamp=1_764_000_000,
        recipient_id="15550100001",
    )

    outcomes = world.service.handle_statuses([status])

    assert [(o.kind, o.wamid) for o in outcomes] == [("skipped", "wamid.out.1")]
    assert world.whatsapp.sent == []
    assert world.connect.chats == {}


# ---- names of files that came without one -------------------------------------------------

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


@pytest.mark.parametrize(
    ("kind", "data", "mime_type", "voice", "expected"),
    [
        (MessageType.IMAGE, JPEG, "image/jpeg", False, r"photo-2025-11-24-160000-[0-9a-f]{4}\.jpg"),
        (MessageType.VIDEO, MP4, "video/mp4", False, r"video-2025-11-24-160000-[0-9a-f]{4}\.mp4"),
        (
            MessageType.AUDIO,
            OGG,
            "audio/ogg; codecs=opus",
            True,
            r"voice-note-2025-11-24-160000-[0-9a-f]{4}\.wav",
        ),
        (
            MessageType.AUDIO,
            OGG,
            "audio/ogg; codecs=opus",
            False,
            r"audio-2025-11-24-160000-[0-9a-f]{4}\.wav",
        ),
    ],
    ids=["photo", "video", "voice-note", "audio"],
)
def test_file_without_a_name_is_named_by_its_kind_and_utc_time(
    kind: MessageType, data: bytes, mime_type: str, voice: bool, expected: str
) -> None:
    world = World()
    world.whatsapp.add_customer_media("3001", data, mime_type)

    world.service.handle_message(media_message(kind, "3001", mime_type=mime_type, voice=voice))

    [chat] = world.connect.chats.values()
    [name] = [a.name for a in chat.attachments()]
    assert re.fullmatch(expected, name)


def test_two_photos_sent_at_different_times_get_different_names() -> None:
    world = World()
    world.whatsapp.add_customer_media("3002", JPEG, "image/jpeg")
    first = media_message(MessageType.IMAGE, "3002", mime_type="image/jpeg")
    second = replace(
        media_message(MessageType.IMAGE, "3002", mime_type="image/jpeg"),
        timestamp=first.timestamp + 61,
    )

    world.service.handle_customer_messages(InboundBatch(source="eum", messages=(first, second)))

    [chat] = world.connect.chats.values()
    first_name, second_name = (a.name for a in chat.attachments())
    assert re.fullmatch(r"photo-2025-11-24-160000-[0-9a-f]{4}\.jpg", first_name)
    assert re.fullmatch(r"photo-2025-11-24-160101-[0-9a-f]{4}\.jpg", second_name)


def test_two_photos_of_an_album_sent_in_the_same_second_get_different_names() -> None:
    world = World()
    world.whatsapp.add_customer_media("3003", JPEG, "image/jpeg")
    first = media_message(MessageType.IMAGE, "3003", mime_type="image/jpeg")
    second = media_message(MessageType.IMAGE, "3003", mime_type="image/jpeg")
    assert (first.timestamp, first.wamid != second.wamid) == (second.timestamp, True)

    world.service.handle_customer_messages(InboundBatch(source="eum", messages=(first, second)))

    [chat] = world.connect.chats.values()
    names = [a.name for a in chat.attachments()]
    assert len(set(names)) == 2
    assert all(name.startswith("photo-2025-11-24-160000-") for name in names)


def test_document_keeps_its_own_name_made_safe() -> None:
    world = World()
    world.whatsapp.add_customer_media("3003", PDF, "application/pdf")

    world.service.handle_message(
        media_message(
            MessageType.DOCUMENT, "3003", mime_type="application/pdf", filename="../Invoice: 12.pdf"
        )
    )

    [chat] = world.connect.chats.values()
    assert [a.name for a in chat.attachments()] == ["Invoice_ 12.pdf"]
