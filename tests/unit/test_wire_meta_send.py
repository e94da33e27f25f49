"""Meta send bodies: exact shapes for every outgoing kind, addressed by phone or by BSUID."""

from __future__ import annotations

from typing import Any

import pytest

from waconnect.domain.outgoing import (
    Choice,
    MediaKind,
    OutgoingChoices,
    OutgoingMedia,
    OutgoingReaction,
    OutgoingText,
    ReadReceipt,
)
from waconnect.domain.whatsapp import Customer
from waconnect.errors import PermanentError
from waconnect.sandbox.meta_send import check_send_body
from waconnect.sandbox.protocol import ApiError
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


def _accepted(body: dict[str, Any]) -> str:
    """What the WhatsApp emulator, which checks bodies as the Cloud API does, says it sends."""
    sent = check_send_body(body, phone_number="100000000000001", media=lambda _id: None)
    return f"{sent.kind}: {sent.text}"


def test_reply_buttons_have_the_cloud_api_shape_and_are_accepted() -> None:
    body = build_message(
        OutgoingChoices(
            to=PHONE,
            body="How was it?",
            choices=(
                Choice(reply_id="option-1", title="Great"),
                Choice(reply_id="option-2", title="Bad"),
            ),
        )
    )
    assert body == {
        **HEAD,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "How was it?"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "option-1", "title": "Great"}},
                    {"type": "reply", "reply": {"id": "option-2", "title": "Bad"}},
                ]
            },
        },
    }
    assert _accepted(body) == "interactive: How was it?"


def test_a_list_has_the_cloud_api_shape_and_is_accepted() -> None:
    body = build_message(
        OutgoingChoices(
            to=PHONE,
            body="Which department?",
            choices=(
                Choice(reply_id="option-1", title="Billing"),
                Choice(reply_id="option-2", title="Support", description="24/7"),
            ),
            as_list=True,
            button="Choose an option",
        )
    )
    assert body["interactive"] == {
        "type": "list",
        "body": {"text": "Which department?"},
        "action": {
            "button": "Choose an option",
            "sections": [
                {
                    "rows": [
                        {"id": "option-1", "title": "Billing"},
                        {"id": "option-2", "title": "Support", "description": "24/7"},
                    ]
                }
            ],
        },
    }
    assert _accepted(body) == "interactive: Which department?"


def _buttons(*titles: str) -> dict[str, Any]:
    return {"buttons": [{"type": "reply", "reply": {"id": t, "title": t}} for t in titles]}


def _rows(count: int, **row: str) -> dict[str, Any]:
    rows = [{"id": f"r{n}", "title": f"Row {n}", **row} for n in range(count)]
    return {"button": "Choose", "sections": [{"rows": rows}]}


@pytest.mark.parametrize(
    ("kind", "action", "why"),
    [
        ("button", _buttons("A", "B", "C", "D"), "1 to 3 buttons"),
        ("button", _buttons("A title of 21 letters"), "at most 20 characters"),
        ("button", _buttons("Same", "Same"), "unique"),
        ("list", _rows(11), "1 to 10 rows"),
        ("list", _rows(1, description="d" * 73), "at most 72 characters"),
        ("list", {**_rows(1), "button": "A label of 21 letters"}, "at most 20 characters"),
    ],
    ids=["four buttons", "long button", "same titles", "eleven rows", "long row", "long label"],
)
def test_the_whatsapp_emulator_refuses_options_the_cloud_api_refuses(
    kind: str, action: dict[str, Any], why: str
) -> None:
    body = {
        **HEAD,
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": "Q"}, "action": action},
    }
    with pytest.raises(ApiError) as refused:
        _accepted(body)
    assert refused.value.status == 400
    assert why in str(refused.value)
