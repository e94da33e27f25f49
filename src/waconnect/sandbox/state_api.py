"""What the emulators hold, read through small views instead of their dictionaries.

The sandbox page, replay and tests read the emulated WhatsApp through :class:`WhatsAppView`
(each customer's conversation as their phone shows it) and the emulated Connect through
:class:`ConnectView` (contacts, transcripts, attachments). Every answer is an immutable copy
taken under the emulator's lock, so a reader never sees a half-made change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waconnect.sandbox.chats import ChatState
    from waconnect.sandbox.eum_records import Exchanged, PhoneNumber, WhatsAppRecords

_MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFile:
    """A file an emulator holds: where its bytes are, what it is, and its name if it has one."""

    path: Path
    content_type: str
    name: str = ""
    size: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneMessage:
    """One bubble on a customer's phone.

    ``status`` is WhatsApp's tick: for the business's messages the last status WhatsApp reported;
    for the customer's own, ``delivered`` once the business number has it and ``read`` once the
    business marked it read. ``details`` holds what a kind carries beyond text and media
    (a location's coordinates, a contact's names and numbers, a tapped button's payload).
    """

    wamid: str
    from_customer: bool
    kind: str
    text: str = ""
    media_id: str = ""
    mime_type: str = ""
    filename: str = ""
    voice: bool = False
    reply_to: str = ""
    status: str = ""
    reactions: tuple[tuple[str, bool], ...] = ()  # (emoji, reacted by the customer)
    details: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessSend:
    """One body a business number sent through End User Messaging, and the wamid it got.

    ``kind`` is the body's ``type`` (text, image, reaction…); "" for a read mark or a typing
    indicator, which are not messages.
    """

    wamid: str
    kind: str
    to: str
    business: str  # the Meta phone number id of the number it was sent from


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatSummary:
    contact_id: str
    customer: str
    display_name: str
    active: bool
    started: float
    items: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentSummary:
    """An attachment Connect was asked to take: ``status`` is its upload or scan state."""

    attachment_id: str
    contact_id: str
    name: str
    content_type: str
    status: str
    uploaded: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatItem:
    """One transcript item of a Connect chat, as an agent's workspace shows it."""

    item_id: str
    kind: str  # MESSAGE, ATTACHMENT or EVENT
    role: str  # CUSTOMER, AGENT or SYSTEM
    display_name: str
    content_type: str
    content: str = ""
    attachment_id: str = ""
    attachment_name: str = ""
    attachment_type: str = ""
    attachment_status: str = ""
    at: str = ""


class WhatsAppView:
    """The emulated WhatsApp as its customers see it."""

    def __init__(self, records: WhatsAppRecords) -> None:
        self._eum = records

    def customers(self) -> tuple[str, ...]:
        """Every customer identity that wrote or was written to, first seen first."""
        with self._eum.lock:
            seen = dict.fromkeys(entry.customer for entry in self._eum.timeline if entry.customer)
        return tuple(seen)

    def conversation(self, customer: str) -> tuple[PhoneMessage, ...]:
        """The customer's chat with the business, oldest first; reactions sit on their target."""
        eum = self._eum
        with eum.lock:
            entries = [entry for entry in eum.timeline if entry.customer == customer]
            read = {
                str(body.get("message_id", "")) for body in eum.sent if body.get("status") == "read"
            }
            statuses = {entry.wamid: eum.status_of(entry.wamid) or "" for entry in entries}
        messages: dict[str, PhoneMessage] = {}
        reactions: dict[str, dict[bool, str]] = {}
        for entry in entries:
            reaction = _reaction(entry)
            if reaction is not None:
                target, emoji = reaction
                reactions.setdefault(target, {})[entry.from_customer] = emoji
                continue
            if entry.from_customer:
                status = "read" if entry.wamid in read else "delivered"
            else:
                status = statuses.get(entry.wamid, "")
            messages[entry.wamid] = _phone_message(entry, status)
        result = []
        for wamid, message in messages.items():
            on = reactions.get(wamid, {})
            marks = tuple((emoji, by) for by, emoji in sorted(on.items()) if emoji)
            result.append(_with_reactions(message, marks))
        return tuple(result)

    def send_count(self) -> int:
        """How many sends End User Messaging has accepted so far (a mark for ``sends``)."""
        with self._eum.lock:
            return len(self._eum.sent)

    def sends(self, since: int = 0) -> tuple[BusinessSend, ...]:
        """The sends accepted after the first ``since``, in order, failed ones included."""
        eum = self._eum
        with eum.lock:
            sends = list(
                zip(eum.sent_wamids[since:], eum.sent[since:], eum.sent_from[since:], strict=True)
            )
        return tuple(
            BusinessSend(
                wamid=wamid,
                kind=str(body.get("type", "")) if "status" not in body else "",
                to=str(body.get("to") or body.get("recipient") or ""),
                business=business,
            )
            for wamid, body, business in sends
        )

    def numbers(self) -> tuple[PhoneNumber, ...]:
        """The business numbers WhatsApp knows, the sandbox's own first."""
        with self._eum.lock:
            return tuple(self._eum.numbers.values())

    def media(self, media_id: str) -> StoredFile:
        """The bytes behind a media id (KeyError when WhatsApp holds no such media)."""
        with self._eum.lock:
            media = self._eum.media[media_id]
        return StoredFile(path=media.blob.path, content_type=media.mime_type, size=media.blob.size)

    def unread_from_business(self, customer: str) -> tuple[str, ...]:
        """Wamids of the business's messages to ``customer`` WhatsApp could still mark read."""
        eum = self._eum
        with eum.lock:
            return tuple(
                entry.wamid
                for entry in eum.timeline
                if not entry.from_customer
                and entry.customer == customer
                and (outbound := eum.outbound.get(entry.wamid)) is not None
                and outbound.can_be_read
            )


class ConnectView:
    """The emulated Amazon Connect as an agent's workspace sees it."""

    def __init__(self, chats: ChatState) -> None:
        self._chats = chats

    def contacts(self) -> tuple[ChatSummary, ...]:
        chats = self._chats
        with chats.lock:
            chats.sweep()
            return tuple(
                ChatSummary(
                    contact_id=contact.contact_id,
                    customer=contact.customer or "",
                    display_name=contact.customer_participant.display_name,
                    active=contact.active,
                    started=contact.started,
                    items=len(contact.transcript),
                )
                for contact in chats.contacts.values()
            )

    def transcript(self, contact_id: str) -> tuple[ChatItem, ...]:
        """The chat's items in order (ApiError ResourceNotFoundException for an unknown id)."""
        chats = self._chats
        with chats.lock:
            items = [dict(item) for item in chats.contact(contact_id).transcript]
        shown: list[ChatItem] = []
        places: dict[str, int] = {}
        for item in items:
            converted = _chat_item(item)
            # A scan's verdict comes as a second item of the same attachment: the workspace
            # shows the attachment once, where it was sent, with its latest status.
            place = places.get(converted.attachment_id) if converted.attachment_id else None
            if place is None:
                if converted.attachment_id:
                    places[converted.attachment_id] = len(shown)
                shown.append(converted)
            else:
                shown[place] = replace(shown[place], attachment_status=converted.attachment_status)
        return tuple(shown)

    def contact(self, contact_id: str) -> ChatSummary | None:
        """One chat's summary, or None when Connect never started a chat with that id."""
        return next((c for c in self.contacts() if c.contact_id == contact_id), None)

    def attachments(self) -> tuple[AttachmentSummary, ...]:
        """Every attachment a chat was asked to take (customer's and agent's), oldest first,
        those whose upload never completed included."""
        with self._chats.lock:
            return tuple(
                AttachmentSummary(
                    attachment_id=attachment.attachment_id,
                    contact_id=attachment.contact_id,
                    name=attachment.name,
                    content_type=attachment.content_type,
                    status=attachment.status,
                    uploaded=attachment.blob is not None,
                )
                for attachment in self._chats.attachments.values()
            )

    def attachment(self, attachment_id: str) -> StoredFile:
        """An uploaded attachment's bytes (KeyError when none was uploaded under that id)."""
        with self._chats.lock:
            attachment = self._chats.attachments.get(attachment_id)
        if attachment is None or attachment.blob is None:
            raise KeyError(attachment_id)
        return StoredFile(
            path=attachment.blob.path,
            content_type=attachment.content_type,
            name=attachment.name,
            size=attachment.blob.size,
        )


def _reaction(entry: Exchanged) -> tuple[str, str] | None:
    body = entry.body
    if body.get("type") != "reaction":
        return None
    reaction = body.get("reaction")
    if not isinstance(reaction, dict):
        return None
    return str(reaction.get("message_id", "")), str(reaction.get("emoji", ""))


def _phone_message(entry: Exchanged, status: str) -> PhoneMessage:
    body = entry.body
    kind = str(body.get("type", ""))
    payload = body.get(kind)
    part: dict[str, Any] = payload if isinstance(payload, dict) else {}
    context = body.get("context")
    reply_to = ""
    if isinstance(context, dict):
        # The customer's messages say ``id``; the business's send bodies ``message_id``.
        reply_to = str(context.get("id") or context.get("message_id") or "")
    text = ""
    details: dict[str, Any] = {}
    if kind == "text":
        text = str(part.get("body", ""))
    elif kind in _MEDIA_KINDS:
        text = str(part.get("caption", ""))
    elif kind == "location":
        details = {key: part.get(key) for key in ("latitude", "longitude", "name", "address")}
    elif kind == "contacts":
        details = {"contacts": _contact_cards(body.get("contacts"))}
    elif kind == "button":
        text = str(part.get("text", ""))
    elif kind == "interactive":
        text, details = _interactive(part)
    return PhoneMessage(
        wamid=entry.wamid,
        from_customer=entry.from_customer,
        kind=kind,
        text=text,
        media_id=str(part.get("id", "")) if kind in _MEDIA_KINDS else "",
        mime_type=str(part.get("mime_type", "")),
        filename=str(part.get("filename", "")),
        voice=bool(part.get("voice")) or (kind == "audio" and not entry.from_customer),
        reply_to=reply_to,
        status=status,
        details=details,
        at=entry.at,
    )


def _interactive(part: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A customer's tapped reply (its title), or the business's question and its options."""
    reply = part.get("button_reply") or part.get("list_reply")
    if isinstance(reply, dict):
        return str(reply.get("title", "")), {"reply_id": str(reply.get("id", ""))}
    body = part.get("body")
    text = str(body.get("text", "")) if isinstance(body, dict) else ""
    action = part.get("action")
    action = action if isinstance(action, dict) else {}
    options: list[dict[str, str]] = []
    if part.get("type") == "button":
        for button in action.get("buttons") or []:
            reply = button.get("reply") if isinstance(button, dict) else None
            if isinstance(reply, dict):
                options.append(
                    {"id": str(reply.get("id", "")), "title": str(reply.get("title", ""))}
                )
    elif part.get("type") == "list":
        for section in action.get("sections") or []:
            for row in section.get("rows") or [] if isinstance(section, dict) else []:
                if isinstance(row, dict):
                    options.append(
                        {key: str(row.get(key, "")) for key in ("id", "title", "description")}
                    )
    return text, {
        "type": str(part.get("type", "")),
        "button": str(action.get("button", "")),
        "options": options,
    }


def _contact_cards(raw: Any) -> list[dict[str, str]]:
    cards = []
    for contact in raw if isinstance(raw, list) else []:
        if not isinstance(contact, dict):
            continue
        name = contact.get("name") or {}
        phones = contact.get("phones") or []
        first_phone = phones[0] if phones and isinstance(phones[0], dict) else {}
        cards.append(
            {
                "name": str(name.get("formatted_name", "")) if isinstance(name, dict) else "",
                "phone": str(first_phone.get("phone", "")),
            }
        )
    return cards


def _with_reactions(message: PhoneMessage, marks: tuple[tuple[str, bool], ...]) -> PhoneMessage:
    return replace(message, reactions=marks) if marks else message


def _chat_item(item: dict[str, Any]) -> ChatItem:
    attachments = item.get("Attachments") or [{}]
    first = attachments[0]
    return ChatItem(
        item_id=str(item.get("Id", "")),
        kind=str(item.get("Type", "")),
        role=str(item.get("ParticipantRole", "")),
        display_name=str(item.get("DisplayName", "")),
        content_type=str(item.get("ContentType", "")),
        content=str(item.get("Content", "")),
        attachment_id=str(first.get("AttachmentId", "")),
        attachment_name=str(first.get("AttachmentName", "")),
        attachment_type=str(first.get("ContentType", "")),
        attachment_status=str(first.get("Status", "")),
        at=str(item.get("AbsoluteTime", "")),
    )
