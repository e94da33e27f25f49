"""What arrives from WhatsApp: customer messages and delivery statuses, as frozen values.

The wire layer (``waconnect.wire``) builds these from EUM notifications and Meta webhook bodies;
nothing outside ``wire`` sees a raw payload except through ``raw``, which stays out of ``repr``.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

# A message's time when WhatsApp gave none that can be shown (before 1970, after year 9999).
UNKNOWN_TIME = 0
# Unix seconds at the end of year 9999, the last moment ``datetime`` can hold.
LATEST_TIMESTAMP = 253_402_300_799


class MessageType(enum.StrEnum):
    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACTS = "contacts"
    INTERACTIVE = "interactive"
    BUTTON = "button"
    REACTION = "reaction"
    ORDER = "order"
    SYSTEM = "system"
    EDIT = "edit"  # the customer changed an earlier message
    REVOKE = "revoke"  # the customer deleted an earlier message for everyone
    UNSUPPORTED = "unsupported"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str) -> MessageType:
        try:
            return cls(value)
        except ValueError:
            logger.warning("unknown WhatsApp message type %r", value)
            return cls.UNKNOWN

    @property
    def has_media(self) -> bool:
        return self in _MEDIA_TYPES


_MEDIA_TYPES = frozenset(
    {
        MessageType.IMAGE,
        MessageType.VIDEO,
        MessageType.AUDIO,
        MessageType.DOCUMENT,
        MessageType.STICKER,
    }
)


class StatusKind(enum.StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    PLAYED = "played"
    DELETED = "deleted"
    WARNING = "warning"  # the message names a catalogue item that is unavailable
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str) -> StatusKind:
        try:
            return cls(value)
        except ValueError:
            logger.warning("unknown WhatsApp status %r", value)
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessNumber:
    """The business's WhatsApp number a message arrived on (or is sent from)."""

    meta_phone_number_id: str
    display_phone_number: str = ""
    waba_id: str = ""
    # End User Messaging's own id, ``phone-number-id-<hex>``; empty for the Meta Cloud API.
    aws_phone_number_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A WhatsApp user. ``wa_id`` may be empty (username users); ``user_id`` is the BSUID."""

    wa_id: str
    user_id: str = ""
    name: str = ""

    @property
    def identity(self) -> str:
        """The stable key for this customer: the business-scoped user id when known."""
        return self.user_id or self.wa_id


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatsAppError:
    code: int
    title: str = ""
    message: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """``context`` of a message: what it replies to, or that it was forwarded."""

    message_id: str = ""
    from_: str = ""
    forwarded: bool = False
    frequently_forwarded: bool = False
    # Set for a reply to a catalogue product ("referred_product").
    referred_product_id: str = ""

    @property
    def is_reply(self) -> bool:
        return bool(self.message_id) and not self.forwarded and not self.frequently_forwarded


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    """A file the customer sent. Only its id travels: the bytes are fetched on demand."""

    media_id: str
    mime_type: str = ""
    sha256: str = ""
    caption: str = ""
    filename: str = ""
    voice: bool = False
    animated: bool = False
    # Meta sometimes includes a direct url (Cloud API); never relied upon.
    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactCard:
    """One entry of a ``contacts`` message. Lists keep the wire's order; each item is readable."""

    formatted_name: str
    first_name: str = ""
    last_name: str = ""
    # prefix, first, middle, last and suffix as given, for the parts a formatted name leaves out.
    name_parts: tuple[str, ...] = ()
    phones: tuple[LabeledValue, ...] = ()
    emails: tuple[LabeledValue, ...] = ()
    urls: tuple[LabeledValue, ...] = ()
    addresses: tuple[LabeledValue, ...] = ()
    organization: str = ""
    title: str = ""
    birthday: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LabeledValue:
    """A value with its label (``type`` on the wire): a phone "CELL", an email "WORK", ..."""

    value: str
    label: str = ""
    wa_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reaction:
    message_id: str
    emoji: str = ""  # empty: the reaction was removed

    @property
    def removed(self) -> bool:
        return not self.emoji


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """A choice the customer made: button or list reply, template quick reply, or a flow."""

    kind: str  # "button_reply" | "list_reply" | "nfm_reply" | "button" | other
    reply_id: str = ""
    title: str = ""
    description: str = ""
    # nfm_reply: the flow's response_json, decoded when it is a JSON object.
    response: dict[str, Any] = field(default_factory=dict)
    # nfm_reply: response_json as received when it is not a JSON object, so no answer is lost.
    response_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """The ad or post a customer tapped to start writing (Click-to-WhatsApp)."""

    source_url: str = ""
    source_id: str = ""
    source_type: str = ""  # "ad" | "post" | other
    headline: str = ""
    body: str = ""
    media_type: str = ""  # "image" | "video"
    image_url: str = ""
    video_url: str = ""
    thumbnail_url: str = ""
    # Click-to-WhatsApp click id, what ad conversion reporting needs.
    ctwa_clid: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderItem:
    product_retailer_id: str
    quantity: int
    item_price: float
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    catalog_id: str
    text: str = ""
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemNotice:
    body: str
    kind: str = ""  # e.g. "user_changed_number", "customer_identity_changed"
    new_wa_id: str = ""
    # Who the notice is about, as WhatsApp names them: the old number, after a change.
    customer: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Revision:
    """An ``edit`` (with the message as it now reads) or a ``revoke`` (``new`` is None)."""

    original_message_id: str
    new: InboundMessage | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """One message a customer sent, whatever its type. Exactly the field its type needs is set."""

    wamid: str
    business: BusinessNumber
    customer: Customer
    timestamp: int
    type: MessageType
    wire_type: str  # the type string as received, kept for UNKNOWN
    text: str = ""
    media: Media | None = None
    location: Location | None = None
    contacts: tuple[ContactCard, ...] = ()
    reaction: Reaction | None = None
    reply: Reply | None = None
    order: Order | None = None
    system: SystemNotice | None = None
    revision: Revision | None = None
    # The type WhatsApp names in an ``unsupported`` message ("pool", ...), when it names one.
    unsupported_type: str = ""
    errors: tuple[WhatsAppError, ...] = ()
    context: Context | None = None
    referral: Referral | None = None
    # Set (with type UNKNOWN) when the message's ids were readable but its body was not:
    # "<path within the message>: <reason>".
    unreadable: str = ""
    # With ``unreadable``: the texts and numbers its body still held, as "path: value", so
    # what the customer wrote reaches the agent even when its shape did not read.
    salvaged: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def has_media(self) -> bool:
        return self.media is not None

    @property
    def sent_at(self) -> datetime | None:
        """When the customer sent it, or None when WhatsApp's time could not be read."""
        return _moment(self.timestamp)

    @property
    def is_reply(self) -> bool:
        return self.context is not None and self.context.is_reply

    @property
    def is_forwarded(self) -> bool:
        return self.context is not None and (
            self.context.forwarded or self.context.frequently_forwarded
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusUpdate:
    """What happened to a message the business sent."""

    wamid: str
    business: BusinessNumber
    status: StatusKind
    timestamp: int
    recipient_id: str = ""
    recipient_user_id: str = ""
    errors: tuple[WhatsAppError, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundBatch:
    """Everything one inbound document carried, in the order it carried it."""

    source: str  # "eum" | "meta"
    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    # Messages and statuses left out because even their ids could not be read:
    # "<source>: <path>: <reason>" each, reported while the rest is processed.
    unreadable: tuple[str, ...] = ()
    # Parts the bridge reads past (other webhook fields, keys it has no use for):
    # "<path>: <why>" each.
    ignored: tuple[str, ...] = ()


def _moment(timestamp: int) -> datetime | None:
    if not 0 < timestamp <= LATEST_TIMESTAMP:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC)
