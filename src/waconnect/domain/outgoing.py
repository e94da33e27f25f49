"""What the bridge sends to a customer on WhatsApp, in domain words.

Adapters turn these into Meta message bodies with ``waconnect.wire.meta_send``; End User
Messaging and the Cloud API take the same bodies.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only annotations name it: the media policy reads MediaKind without the inbound model.
    from waconnect.domain.whatsapp import Customer


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingText:
    to: Customer
    text: str
    reply_to: str = ""  # wamid to quote
    preview_url: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMedia:
    to: Customer
    kind: MediaKind
    media_id: str
    caption: str = ""
    filename: str = ""  # documents only
    voice: bool = False  # audio only: an OGG/Opus voice note
    reply_to: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingReaction:
    to: Customer
    message_id: str
    emoji: str  # empty removes our reaction


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadReceipt:
    """Marks a customer's message read; with ``typing`` also shows the typing indicator."""

    message_id: str
    typing: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """One option the customer can tap; ``reply_id`` comes back in their reply."""

    reply_id: str
    title: str
    description: str = ""  # list rows only


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingChoices:
    """A question with options to tap: reply buttons, or a list opened by ``button``."""

    to: Customer
    body: str
    choices: tuple[Choice, ...]
    as_list: bool = False
    button: str = ""  # the label of the list's opening button


Outgoing = OutgoingText | OutgoingMedia | OutgoingReaction | ReadReceipt | OutgoingChoices
