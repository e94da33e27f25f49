"""What a message is remembered by, so a later reply or reaction can quote it to the agent.

A text is its own words; a file its caption, else "📎" and its name; a location or a contact card
a pin or a face and a name. The log shortens it; here it only has to be the right words.
"""

from __future__ import annotations

from waconnect.domain.whatsapp import InboundMessage, MessageType


def customer_snippet(message: InboundMessage, *, file_name: str = "") -> str:
    """The words that stand for a customer's message; ``file_name`` is the name the agent saw."""
    if message.media is not None:
        caption = message.media.caption.strip()
        if caption:
            return caption
        name = file_name or message.media.filename
        return f"📎 {name}" if name else ""
    match message.type:
        case MessageType.TEXT:
            return message.text
        case MessageType.LOCATION if message.location is not None:
            place = message.location
            where = place.name or place.address
            return f"📍 {where}" if where else f"📍 {place.latitude:.5f}, {place.longitude:.5f}"
        case MessageType.CONTACTS if message.contacts:
            names = [c.formatted_name or c.first_name for c in message.contacts]
            return "👤 " + (", ".join(name for name in names if name) or "Contact")
        case MessageType.INTERACTIVE | MessageType.BUTTON if message.reply is not None:
            return message.reply.title
        case MessageType.ORDER if message.order is not None:
            return f"🛒 {message.order.text}".rstrip() if message.order.text else "🛒 Order"
    return ""


def agent_file_snippet(file_name: str) -> str:
    """The words that stand for a file the agent sent."""
    return f"📎 {file_name}" if file_name else "📎 file"


def quoted_wamid(message: InboundMessage) -> str:
    """The wamid a reply, a reaction, an edit or a deletion refers to, or "" for none."""
    if message.revision is not None:
        return message.revision.original_message_id
    if message.type is MessageType.REACTION and message.reaction is not None:
        return message.reaction.message_id
    if message.context is not None and message.context.is_reply:
        return message.context.message_id
    return ""


def worth_remembering(message: InboundMessage) -> bool:
    """Reactions are not quoted by anyone, and never show a typing indicator."""
    return message.type is not MessageType.REACTION
