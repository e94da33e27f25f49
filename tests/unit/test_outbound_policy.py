"""Agent → customer: files go as the kind WhatsApp takes at their real size, markdown is mapped,
ended chats stay ended, and interactive content WhatsApp can't show never reaches the customer raw.
"""

from __future__ import annotations

import json

import pytest
from tests.unit.test_outbound import JPEG, PDF, World, attach, attachment_event, event

from waconnect.domain.connect import (
    EVENT_PREFIX,
    INTERACTIVE_CONTENT_TYPE,
    AttachmentStatus,
    ConnectAttachment,
    EventType,
)
from waconnect.domain.outgoing import MediaKind, OutgoingMedia
from waconnect.domain.session import ChatSession
from waconnect.media.policy import MB, outbound_plan
from waconnect.media.sniff import DOCX

MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
MOV = b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64


def padded(head: bytes, size: int) -> bytes:
    return head + b"\x00" * (size - len(head))


# ---- the plan ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "size", "name", "expected"),
    [
        ("image/jpeg", 5 * MB, "a.jpg", (MediaKind.IMAGE, "send", "image/jpeg")),
        ("image/jpeg", 5 * MB + 1, "a.jpg", (MediaKind.IMAGE, "convert", "image/jpeg")),
        ("image/png", 6 * MB, "a.png", (MediaKind.IMAGE, "convert", "image/jpeg")),
        ("video/mp4", 16 * MB, "a.mp4", (MediaKind.VIDEO, "send", "video/mp4")),
        ("video/mp4", 16 * MB + 1, "a.mp4", (MediaKind.VIDEO, "convert", "video/mp4")),
        ("video/3gpp", MB, "a.3gp", (MediaKind.VIDEO, "send", "video/3gpp")),
        ("video/quicktime", MB, "a.mov", (MediaKind.VIDEO, "convert", "video/mp4")),
        ("image/heic", MB, "a.heic", (MediaKind.IMAGE, "convert", "image/jpeg")),
        ("application/pdf", 99 * MB, "a.pdf", (MediaKind.DOCUMENT, "send", "application/pdf")),
        ("application/zip", MB, "a.zip", (MediaKind.DOCUMENT, "notice", "application/zip")),
        (
            "application/pdf",
            100 * MB + 1,
            "a.pdf",
            (MediaKind.DOCUMENT, "notice", "application/pdf"),
        ),
        ("audio/wav", 30 * MB, "a.wav", (MediaKind.AUDIO, "convert", "audio/ogg")),
        ("audio/flac", MB, "a.flac", (MediaKind.AUDIO, "convert", "audio/ogg")),
    ],
)
def test_outbound_plan_picks_the_kind_whatsapp_takes_at_that_size(
    content_type: str, size: int, name: str, expected: tuple[MediaKind, str, str]
) -> None:
    plan = outbound_plan(content_type, size, name=name)

    assert (plan.kind, plan.action, plan.content_type) == expected


def test_a_document_keeps_its_original_file_name() -> None:
    assert outbound_plan(DOCX, MB, name="Price list.docx").filename == "Price list.docx"


# ---- the service ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "data", "why"),
    [
        ("files.zip", "application/zip", ZIP, "does not accept application/zip"),
    ],
    ids=["zip"],
)
def test_a_file_whatsapp_would_refuse_is_not_sent_and_the_agent_is_told_why(
    name: str, content_type: str, data: bytes, why: str
) -> None:
    # WhatsApp checks an upload against its type's limits and refuses types outside its lists
    # (application/octet-stream too): such a file cannot go out as a document either.
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, name, content_type, data)

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "failed"
    assert world.whatsapp.sent == []
    assert world.whatsapp.uploaded == {}
    [notice] = world.connect.chats[session.contact_id].messages()
    assert name in notice
    assert outcome.failure is not None
    assert why in outcome.failure.detail


def test_small_mp4_still_goes_as_a_video() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "tour.mp4", "video/mp4", MP4)

    world.service.handle_agent_event(attachment_event(session, attachment))

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingMedia)
    assert sent.kind is MediaKind.VIDEO
    assert world.whatsapp.uploaded[sent.media_id].content_type == "video/mp4"


def test_the_plan_uses_the_size_of_the_downloaded_file() -> None:
    world = World()
    session = world.open_chat()
    # Connect says nothing of the size; what was stored decides (here just over the image limit,
    # so the photo is recompressed to fit).
    attachment = attach(world, session, "p.jpg", "image/jpeg", padded(JPEG, 5 * MB + 1))

    world.service.handle_agent_event(attachment_event(session, attachment))

    assert [target for _, target in world.converter.conversions] == ["jpeg"]


def test_a_csv_goes_as_a_document_with_its_name() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "rows.csv", "text/csv", b"a,b\n1,2\n")

    world.service.handle_agent_event(attachment_event(session, attachment))

    [(_, sent)] = world.whatsapp.sent
    assert isinstance(sent, OutgoingMedia)
    assert (sent.kind, sent.filename) == (MediaKind.DOCUMENT, "rows.csv")


def test_document_over_100_mb_is_a_notice_to_the_agent() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "big.pdf", "application/pdf", padded(PDF, 100 * MB + 1))

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert outcome.kind == "failed"
    assert world.whatsapp.sent == []
    [notice] = world.connect.chats[session.contact_id].messages()
    assert "big.pdf" in notice
    assert "100 MB" in notice


# ---- markdown ---------------------------------------------------------------------------------


def test_markdown_reaches_the_customer_in_whatsapp_formatting() -> None:
    world = World()
    session = world.open_chat()
    content = "# Order\n- **paid**\n- see [details](https://example.com/o_1)"

    world.service.handle_agent_event(
        event(session, content_type="text/markdown; charset=UTF-8", content=content)
    )

    assert world.whatsapp.texts() == ["*Order*\n• *paid*\n• see details (https://example.com/o_1)"]


def test_plain_text_is_not_treated_as_markdown() -> None:
    world = World()
    session = world.open_chat()

    world.service.handle_agent_event(event(session, content="**as typed** [x](y)"))

    assert world.whatsapp.texts() == ["**as typed** [x](y)"]


# ---- ended chats ------------------------------------------------------------------------------


def end(world: World, session: ChatSession) -> None:
    world.service.handle_agent_event(
        event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "chat.ended")
    )


def test_agent_message_after_the_chat_ended_is_ignored() -> None:
    world = World()
    session = world.open_chat()
    end(world, session)

    outcome = world.service.handle_agent_event(event(session, content="are you there?"))

    assert (outcome.kind, outcome.reason) == ("ignored", "chat ended")
    assert world.whatsapp.sent == []


def test_late_attachment_after_the_chat_ended_is_ignored() -> None:
    world = World()
    session = world.open_chat()
    attachment = attach(world, session, "terms.pdf", "application/pdf", PDF)
    end(world, session)

    outcome = world.service.handle_agent_event(attachment_event(session, attachment))

    assert (outcome.kind, outcome.reason) == ("ignored", "chat ended")
    assert world.whatsapp.sent == []
    assert world.whatsapp.uploaded == {}


def test_a_second_end_of_an_ended_chat_is_still_the_end() -> None:
    world = World()
    session = world.open_chat()
    end(world, session)

    outcome = world.service.handle_agent_event(
        event(session, type=EventType.EVENT, content_type=EVENT_PREFIX + "chat.ended")
    )

    assert (outcome.kind, outcome.reason) == ("delivered", "chat ended")


def test_rejected_attachment_of_an_ended_chat_is_ignored_too() -> None:
    world = World()
    session = world.open_chat()
    end(world, session)
    rejected = ConnectAttachment(
        attachment_id="attachment-x",
        name="x.pdf",
        content_type="application/pdf",
        status=AttachmentStatus.REJECTED,
    )

    outcome = world.service.handle_agent_event(attachment_event(session, rejected))

    assert (outcome.kind, outcome.reason) == ("ignored", "chat ended")


# ---- interactive content ----------------------------------------------------------------------


def test_interactive_of_unknown_shape_sends_its_titles_and_texts() -> None:
    world = World()
    session = world.open_chat()
    content = json.dumps(
        {
            "templateType": "SomethingNew",
            "payload": {"header": {"title": "Rate us"}, "items": [{"text": "1"}, {"text": "5"}]},
        }
    )

    outcome = world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    assert outcome.kind == "delivered"
    assert world.whatsapp.texts() == ["Rate us\n1\n5"]


@pytest.mark.parametrize(
    "content",
    ['{"templateType": "ListPicker", "data": ', '{"templateType": "Panel"}', "[1, 2, 3]", "null"],
    ids=["not json", "no text fields", "a list of numbers", "null"],
)
def test_unshowable_interactive_tells_the_agent_and_sends_nothing(content: str) -> None:
    world = World()
    session = world.open_chat()

    outcome = world.service.handle_agent_event(
        event(session, content_type=INTERACTIVE_CONTENT_TYPE, content=content)
    )

    assert outcome.kind == "failed"
    assert world.whatsapp.sent == []
    [notice] = world.connect.chats[session.contact_id].messages()
    assert notice.startswith("⚠️ Your message did not reach the customer")
    assert "interactive" in notice
    assert content not in notice
