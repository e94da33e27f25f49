"""Meta send bodies: exact shapes for every outgoing kind, addressed by phone or by BSUID."""

from __future__ import annotations

import pytest

from waconnect.domain.outgoing import (
    MediaKind,
    OutgoingMedia,
    OutgoingReaction,
    OutgoingText,
    ReadReceipt,
)
from waconnect.domain.whatsapp import Customer
from waconnect.errors import PermanentError
from waconnect.wire.meta_send import build_message

PHONE = Customer(wa_id="15550100001", name="Ana Example")
USERNAME = Customer(wa_id="", user_id="US.13491208655302741918")
BOTH = Customer(wa_id="15550100001", user_id="US.13491208655302741918")
HEAD = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "15550100001"}


def test_text_with_reply_and_preview() -> None:
    body = build_message(
        OutgoingText(to=PHONE, text="See https://example.com", reply_to="wamid.X", preview_url=True)
    )
    assert body == {
        **HEAD,
        "type": "text",
        "text": {"body": "See https://example.com", "preview_url": True},
        "context": {"message_id": "wamid.X"},
    }


def test_text_to_username_user_uses_recipient_not_to() -> None:
    body = build_message(OutgoingText(to=USERNAME, text="Hi"))
    assert body["recipient"] == "US.13491208655302741918"
    assert "to" not in body
    assert "context" not in body


def test_customer_with_phone_and_bsuid_is_addressed_by_phone_only() -> None:
    body = build_message(OutgoingText(to=BOTH, text="Hi"))
    assert body["to"] == "15550100001"
    assert "recipient" not in body


def test_customer_without_any_identity_cannot_be_addressed() -> None:
    with pytest.raises(PermanentError):
        build_message(OutgoingText(to=Customer(wa_id=""), text="Hi"))


@pytest.mark.parametrize(
    ("kind", "caption", "filename", "voice", "expected"),
    [
        (MediaKind.IMAGE, "A photo", "", False, {"id": "m1", "caption": "A photo"}),
        (MediaKind.VIDEO, "A clip", "", False, {"id": "m1", "caption": "A clip"}),
        (MediaKind.AUDIO, "dropped", "", True, {"id": "m1", "voice": True}),
        (MediaKind.AUDIO, "", "", False, {"id": "m1"}),
        (
            MediaKind.DOCUMENT,
            "Your invoice",
            "invoice.pdf",
            False,
            {"id": "m1", "caption": "Your invoice", "filename": "invoice.pdf"},
        ),
        (MediaKind.STICKER, "dropped", "ignored.webp", False, {"id": "m1"}),
    ],
    ids=["image", "video", "voice-note", "audio", "document", "sticker"],
)
def test_media_by_id_carries_only_the_fields_meta_allows(
    kind: MediaKind, caption: str, filename: str, voice: bool, expected: dict[str, object]
) -> None:
    message = OutgoingMedia(
        to=PHONE, kind=kind, media_id="m1", caption=caption, filename=filename, voice=voice
    )
    assert build_message(message) == {**HEAD, "type": kind.value, kind.value: expected}


def test_media_reply_quotes_the_message() -> None:
    message = OutgoingMedia(to=PHONE, kind=MediaKind.IMAGE, media_id="m1", reply_to="wamid.Y")
    assert build_message(message)["context"] == {"message_id": "wamid.Y"}


def test_reaction_and_its_removal() -> None:
    added = build_message(OutgoingReaction(to=PHONE, message_id="wamid.Z", emoji="📎"))
    removed = build_message(OutgoingReaction(to=PHONE, message_id="wamid.Z", emoji=""))
    assert added == {
        **HEAD,
        "type": "reaction",
        "reaction": {"message_id": "wamid.Z", "emoji": "📎"},
    }
    assert removed["reaction"] == {"message_id": "wamid.Z", "emoji": ""}


def test_read_receipt_and_typing_indicator() -> None:
    read = build_message(ReadReceipt(message_id="wamid.R"))
    typing = build_message(ReadReceipt(message_id="wamid.R", typing=True))
    assert read == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.R"}
    assert typing == {**read, "typing_indicator": {"type": "text"}}
