"""Meta message bodies for what the bridge sends; End User Messaging passes them through as is.

A customer known only by their business-scoped user id (BSUID) is addressed with ``recipient``;
Meta documents that ``to`` (a phone number) takes precedence when both are present, so a body
carries exactly one of them.
"""

from __future__ import annotations

from typing import Any

from waconnect.domain.outgoing import (
    MediaKind,
    Outgoing,
    OutgoingChoices,
    OutgoingMedia,
    OutgoingReaction,
    OutgoingText,
    ReadReceipt,
)
from waconnect.domain.whatsapp import Customer
from waconnect.errors import PermanentError

# Meta allows a caption on these kinds only.
_CAPTIONED = frozenset({MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.DOCUMENT})


def build_message(message: Outgoing) -> dict[str, Any]:
    match message:
        case OutgoingText():
            body = _addressed(message.to, "text")
            body["text"] = {"body": message.text, "preview_url": message.preview_url}
            return _in_reply(body, message.reply_to)
        case OutgoingMedia():
            return _in_reply(_media(message), message.reply_to)
        case OutgoingReaction():
            body = _addressed(message.to, "reaction")
            body["reaction"] = {"message_id": message.message_id, "emoji": message.emoji}
            return body
        case OutgoingChoices():
            body = _addressed(message.to, "interactive")
            body["interactive"] = _choices(message)
            return body
        case ReadReceipt():
            receipt: dict[str, Any] = {
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": message.message_id,
            }
            if message.typing:
                receipt["typing_indicator"] = {"type": "text"}
            return receipt


def recipient_fields(customer: Customer) -> dict[str, str]:
    """``to`` for a phone number, else ``recipient`` for the BSUID."""
    if customer.wa_id:
        return {"to": customer.wa_id}
    if customer.user_id:
        return {"recipient": customer.user_id}
    raise PermanentError(
        "a customer with neither wa_id nor user_id cannot be addressed", operation="send"
    )


def _addressed(customer: Customer, kind: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **recipient_fields(customer),
        "type": kind,
    }


def _media(message: OutgoingMedia) -> dict[str, Any]:
    kind = message.kind
    body = _addressed(message.to, kind.value)
    media: dict[str, Any] = {"id": message.media_id}
    if message.caption and kind in _CAPTIONED:
        media["caption"] = message.caption
    if kind is MediaKind.DOCUMENT and message.filename:
        media["filename"] = message.filename
    if kind is MediaKind.AUDIO and message.voice:
        media["voice"] = True
    body[kind.value] = media
    return body


def _choices(message: OutgoingChoices) -> dict[str, Any]:
    if message.as_list:
        rows = []
        for choice in message.choices:
            row = {"id": choice.reply_id, "title": choice.title}
            if choice.description:
                row["description"] = choice.description
            rows.append(row)
        action: dict[str, Any] = {"button": message.button, "sections": [{"rows": rows}]}
        return {"type": "list", "body": {"text": message.body}, "action": action}
    buttons = [
        {"type": "reply", "reply": {"id": choice.reply_id, "title": choice.title}}
        for choice in message.choices
    ]
    return {"type": "button", "body": {"text": message.body}, "action": {"buttons": buttons}}


def _in_reply(body: dict[str, Any], reply_to: str) -> dict[str, Any]:
    if reply_to:
        body["context"] = {"message_id": reply_to}
    return body
