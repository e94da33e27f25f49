"""Agent → customer: each rule of the outbound use case, on in-memory fakes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from tests.fakes_remote import OGG_OPUS_HEAD
from tests.worlds import Ports, outbound_service

from waconnect.domain.connect import (
    EVENT_PREFIX,
    INTERACTIVE_CONTENT_TYPE,
    AttachmentStatus,
    ConnectAttachment,
    ConnectEvent,
    EventType,
    ParticipantRole,
    Visibility,
)
from waconnect.domain.outgoing import (
    Choice,
    MediaKind,
    OutgoingChoices,
    OutgoingMedia,
    OutgoingText,
    ReadReceipt,
)
from waconnect.domain.session import ChatSession
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError, TransientError
from waconnect.ports import LoggedMessage

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
ANA = Customer(wa_id="15550100001", name="Ana")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64


class World(Ports):
    def __init__(self, *, remember_snippets: bool = True) -> None:
        super().__init__()
        self.service = outbound_service(self, remember_snippets=remember_snippets)

    def open_chat(self, customer: Customer = ANA) -> ChatSession:
        return self.open_chat_for(BUSINESS, customer)


_ids = iter(range(1, 10_000))


def event(
    session: ChatSession | None,
    *,
    type: EventType = EventType.MESSAGE,
    content_type: str = "text/plain",
    content: str = "",
    role: ParticipantRole = ParticipantRole.AGENT,
    visibility: Visibility = Visibility.ALL,
    attachments: tuple[ConnectAttachment, ...] = (),
    contact_id: str = "",
    event_id: str = "",
) -> ConnectEvent:
    contact = contact_id or (session.contact_id if session else "contact-unknown")
    return ConnectEvent(
        event_id=event_id or f"event-{next(_ids)}",
        type=type,
        content_type=content_type,
        contact_id=contact,
        initial_contact_id=contact,
        role=role,
        content=content,
        visibility=visibility,
        attachments=attachments,
    )


def texts(world: World) -> list[str]:
    return world.whatsapp.texts()


def test_agent_text_reaches_the_customer() -> None:
    world = World()
    session = world.open_chat()

    outcome = world.service.handle_agent_event(event(session, content="Thanks Ana"))

    assert outcome.kind == "delivered"
    assert world.whatsapp.sent == [(BUSINESS, OutgoingText(to=ANA, text="Thanks Ana"))]


def test_markdown_is_sent_as_whatsapp_formatted_text() -> None:
    world = World()
    session = world.open_chat()

    world.service.handle_agent_event(
        event(session, content_type="text/markdown", content="**Thanks**")
    )

    assert texts(world) == ["*Thanks*"]


def test_text_over_4096_characters_is_split() -> None:
    world = World()
    session = world.open_chat()
    body = " ".join(f"word{i:04d}" for i in range(1000))  # about 9,000 characters

    world.service.handle_agent_event(event(session, content=body))

    parts = texts(world)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert " ".join(parts).split() == body.split()


def test_own_echo_is_skipped() -> None:
    world = World()
    session = world.open_chat()

    outcome = world.service.handle_agent_event(
        event(session, content="hi", role=ParticipantRole.CUSTOMER)
    )

    assert outcome.kind == "skipped"
    assert world.whatsapp.sent == []


def test_agent_only_message_is_skipped() -> None:
    world = World()
    session = world.open_chat()

    outcome = world.service.handle_agent_event(
        event(session, content="note", visibility=Visibility.AGENT)
    )

    assert outcome.kind == "skipped"
    assert world.whatsapp.sent == []


def test_unknown_contact_is_ignored() -> None:
    world = World()

    outcome = world.service.handle_agent_event(event(None, content="hi", contact_id="nobody"))

    assert (outcome.kind, outcome.reason) == ("ignored", "unknown contact")
    assert world.whatsapp.sent == []


def test_session_is_found_by_initial_contact_after_a_transfer() -> None:
    world = World()
    session = world.open_chat()
    transferred = replace(event(session, content="Hello from sales"), contact_id="contact-new")

    outcome = world.service.handle_agent_event(transferred)

    assert outcome.kind == "delivered"
    assert texts(world) == ["Hello from sales"]


def test_same_event_delivered_three_times_sends_one_message() -> None:
    world = World()
    session = world.open_chat()
    once = event(session, content="just once")

    kinds = [world.service.handle_agent_event(once).kind for _ in range(3)]

    assert kinds == ["delivered", "duplicate", "duplicate"]
    assert texts(world) == ["just once"]


def test_transient_error_releases_the_claim_for_the_retry() -> None:
    world = World()
    session = world.open_chat()
    once = event(session, content="again")
    world.whatsapp.fail_next(TransientError("throttled"), operation="send")

    with pytest.raises(TransientError):
        world.service.handle_agent_event(once)
    outcome = world.service.handle_agent_event(once)

    assert outcome.kind == "delivered"
    assert texts(world) == ["again"]


def test_permanent_error_is_reported_to_the_agent_in_the_chat() -> None:
    world = World()
    session = world.open_chat()
    world.whatsapp.fail_next(PermanentError("outside the 24-hour window"), operation="send")

    outcome = world.service.handle_agent_event(event(session, content="late reply"))

    assert outcome.kind == "failed"
    assert outcome.failure is not None
    chat = world.connect.chats[session.contact_id]
    assert chat.messages() == [outcome.failure.agent_text[:1024]]


def _template(kind: str, title: str, *options: tuple[str, str]) -> str:
    elements = [dict(title=t, **({"subtitle": d} if d else {})) for t, d in options]
    return json.dumps(
        {
            "templateType": kind,
            "version": "1.0",
            "data": {"content": {"title": title, "elements": elements}},
        }
    )


def test_a_quick_reply_of_three_short_options_becomes_reply_buttons() -> None:
    world = World()
    session = world.open_chat()
    content = _template(
        "QuickReply", "How was our service?", ("Great", ""), ("OK", ""), ("Bad", "")
    )

    outcome = world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    assert outcome.kind == "delivered"
    [(_, sent)] = world.whatsapp.sent
    assert sent == OutgoingChoices(
        to=ANA,
        body="How was our service?",
        choices=(
            Choice(reply_id="option-1", title="Great"),
            Choice(reply_id="option-2", title="OK"),
            Choice(reply_id="option-3", title="Bad"),
        ),
    )


def test_a_list_picker_becomes_a_whatsapp_list_with_descriptions() -> None:
    world = World()
    session = world.open_chat()
    content = _template("ListPicker", "Which department?", ("Billing", ""), ("Support", "24/7"))

    world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingChoices)
    assert (sent.as_list, sent.button, sent.body) == (True, "Choose an option", "Which department?")
    assert sent.choices == (
        Choice(reply_id="option-1", title="Billing"),
        Choice(reply_id="option-2", title="Support", description="24/7"),
    )


@pytest.mark.parametrize(
    "options",
    [
        [(f"Option {n}", "") for n in range(11)],
        [("A title longer than WhatsApp's rows take", "")],
        [("Same", ""), ("Same", "")],
        [
            (
                "Fine",
                "a description longer than the seventy-two characters a row of a list shows",
            )
        ],
    ],
    ids=["eleven options", "a long title", "the same title twice", "a long description"],
)
def test_options_that_do_not_fit_whatsapp_are_sent_as_readable_text(
    options: list[tuple[str, str]],
) -> None:
    world = World()
    session = world.open_chat()
    content = _template("ListPicker", "Which one?", *options)

    world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    [sent] = world.whatsapp.texts()
    assert sent.splitlines()[0] == "Which one?"
    assert sent.splitlines()[1].startswith(f"• {options[0][0]}")


def test_a_quick_reply_of_more_than_three_options_becomes_a_list() -> None:
    world = World()
    session = world.open_chat()
    content = _template("QuickReply", "Rate us", *[(str(n), "") for n in range(1, 6)])

    world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingChoices)
    assert sent.as_list
    assert [choice.title for choice in sent.choices] == ["1", "2", "3", "4", "5"]


# ---- attachments --------------------------------------------------------------------------


def attach(
    world: World, session: ChatSession, name: str, content_type: str, data: bytes
) -> ConnectAttachment:
    attachment_id = world.connect.agent_attach(
        session.contact_id, name=name, content_type=content_type, data=data
    )
    return ConnectAttachment(
        attachment_id=attachment_id,
        name=name,
        content_type=content_type,
        status=AttachmentStatus.APPROVED,
    )


def attachment_event(session: ChatSession, attachment: ConnectAttachment) -> ConnectEvent:
    return event(
        session,
        type=EventType.ATTACHMENT,
        content_type=attachment.content_type,
        attachments=(attachment,),
    )


def test_approved_jpeg_is_sent_as_an_image_by_media_id() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "photo.jpg", "image/jpeg", JPEG)

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "delivered"
    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingMedia)
    assert sent.kind is MediaKind.IMAGE
    assert world.whatsapp.uploaded[sent.media_id].data == JPEG


def test_pdf_is_sent_as_a_document_with_its_name() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "terms.pdf", "application/pdf", PDF)

    world.service.handle_agent_event(attachment_event(session, attachment))

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingMedia)
    assert (sent.kind, sent.filename) == (MediaKind.DOCUMENT, "terms.pdf")
    assert world.whatsapp.uploaded[sent.media_id].data == PDF


def test_wav_becomes_an_ogg_opus_voice_note() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "hello.wav", "audio/wav", WAV)

    world.service.handle_agent_event(attachment_event(session, attachment))

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingMedia)
    assert (sent.kind, sent.voice) == (MediaKind.AUDIO, True)
    uploaded = world.whatsapp.uploaded[sent.media_id]
    assert uploaded.data.startswith(OGG_OPUS_HEAD)
    assert [target for _, target in world.converter.conversions] == ["ogg-opus"]


def test_rejected_attachment_is_ignored_and_nothing_is_sent() -> None:
    world = World()
    session = world.open_chat()
    attachment = replace(
        attach(world, session, "x.pdf", "application/pdf", PDF), status=AttachmentStatus.REJECTED
    )

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "ignored"
    assert world.whatsapp.sent == []


def test_attachment_in_progress_waits_for_the_approved_event() -> None:
    world = World()
    session = world.open_chat()
    approved = attach(world, session, "x.pdf", "application/pdf", PDF)
    scanning = replace(approved, status=AttachmentStatus.IN_PROGRESS)
    first = attachment_event(session, scanning)

    waiting = world.service.handle_agent_event(first)
    done = world.service.handle_agent_event(replace(first, attachments=(approved,)))

    assert (waiting.kind, done.kind) == ("skipped", "delivered")
    assert len(world.whatsapp.sent) == 1


def test_attachment_download_survives_an_expired_connection() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "photo.jpg", "image/jpeg", JPEG)
    world.connect.expire_connections(session.contact_id)

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "delivered"
    assert len(world.whatsapp.sent) == 1


# ---- events -------------------------------------------------------------------------------


def test_chat_ended_closes_the_session() -> None:
    world = World()
    session = world.open_chat()
    ended = event(
        session,
        type=EventType.EVENT,
        content_type=EVENT_PREFIX + "chat.ended",
        role=ParticipantRole.SYSTEM,
    )

    world.service.handle_agent_event(ended)

    stored = world.sessions.get(session.key)
    assert stored is not None
    assert stored.ended
    assert world.whatsapp.sent == []


def test_customer_leaving_closes_the_session_but_an_agent_leaving_does_not() -> None:
    world = World()
    session = world.open_chat()
    left = EVENT_PREFIX + "participant.left"

    world.service.handle_agent_event(
        event(session, type=EventType.EVENT, content_type=left, role=ParticipantRole.AGENT)
    )
    after_agent = world.sessions.get(session.key)
    world.service.handle_agent_event(
        event(session, type=EventType.EVENT, content_type=left, role=ParticipantRole.CUSTOMER)
    )
    after_customer = world.sessions.get(session.key)

    assert after_agent is not None
    assert not after_agent.ended
    assert after_customer is not None
    assert after_customer.ended


def test_typing_shows_the_indicator_on_the_customers_last_message() -> None:
    world = World()
    session = world.open_chat()
    for wamid in ("wamid.before", "wamid.last"):
        world.log.remember(
            LoggedMessage.of(
                wamid=wamid, key=session.key, author="customer", text="hi", at=world.clock.now()
            )
        )
    typing = event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "typing")

    outcome = world.service.handle_agent_event(typing)

    assert outcome.kind == "delivered"
    assert world.whatsapp.sent == [(BUSINESS, ReadReceipt(message_id="wamid.last", typing=True))]


def test_typing_without_a_known_message_is_skipped() -> None:
    world = World()
    session = world.open_chat()
    typing = event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "typing")

    outcome = world.service.handle_agent_event(typing)

    assert outcome.kind == "skipped"
    assert world.whatsapp.sent == []


def test_message_read_by_the_agent_is_skipped_for_now() -> None:
    world = World()
    session = world.open_chat()
    read = event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "message.read")

    assert world.service.handle_agent_event(read).kind == "skipped"
    assert world.whatsapp.sent == []


# ---- failures of the agent's files are told as failures toward the customer ---------------


def test_agent_file_that_cannot_be_converted_is_told_as_not_reaching_the_customer() -> None:
    world = World()
    session = world.open_chat()
    world.converter.fail_next(PermanentError("invalid data in the WAV header", operation="convert"))
    attachment = attach(world, session, "hello.wav", "audio/wav", WAV)

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "failed"
    assert world.whatsapp.sent == []
    assert world.connect.chats[session.contact_id].messages() == [
        "⚠️ Your file “hello.wav” did not reach the customer: it could not be converted to a "
        "format WhatsApp accepts (invalid data in the WAV header)."
    ]


def test_agent_file_that_cannot_be_downloaded_is_told_to_the_agent_with_a_try_again() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "terms.pdf", "application/pdf", PDF)
    world.connect.fail_next(
        PermanentError(
            "attachment not found", operation="GetAttachment", code="ResourceNotFoundException"
        ),
        operation="get_attachment",
    )

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "failed"
    assert world.whatsapp.sent == []
    assert world.connect.chats[session.contact_id].messages() == [
        "⚠️ Your file “terms.pdf” did not reach the customer: the file could not be downloaded "
        "(code ResourceNotFoundException). You can try again."
    ]
