"""An agent's Connect event as the parts that reach the customer, or why nothing does.

A message becomes text parts (Markdown and interactive content as WhatsApp text, split at
WhatsApp's limit) or one "choices" part (reply buttons, a list, when WhatsApp can show them); an
APPROVED attachment a file part; a typing event a typing indicator on the customer's last
message; the end of the chat a "close" part. Each part carries its claim key:
``connect:<event id>:<n>`` for a text part (``:0`` for choices), ``connect:attachment:<id>`` for
a file (Connect may publish the same APPROVED attachment again under a new event id, and the
customer must get the file once), ``connect:<event id>`` for a typing indicator.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from waconnect.domain.connect import (
    INTERACTIVE_CONTENT_TYPE,
    AttachmentStatus,
    ConnectEvent,
    ParticipantRole,
)
from waconnect.domain.failures import Direction, Failure, FailureReason
from waconnect.domain.markdown import markdown_to_whatsapp
from waconnect.domain.session import ChatSession
from waconnect.domain.text import WHATSAPP_TEXT_LIMIT
from waconnect.errors import DeliveryError
from waconnect.ports import MessageLog
from waconnect.services.delivery import Part, text_parts
from waconnect.services.interactive import interactive_as_text, interactive_choices
from waconnect.services.outcome import Outcome, event_outcome

logger = logging.getLogger(__name__)

_MARKDOWN = "text/markdown"

# What an event plans: parts to deliver; an outcome when nothing goes (skipped, ignored); a
# failure when nothing can go and the agent is to be told.
Planned = list[Part] | Outcome | Failure


def ends_chat(event: ConnectEvent) -> bool:
    name = event.event_name
    return name == "chat.ended" or (
        name == "participant.left" and event.role is ParticipantRole.CUSTOMER
    )


def message_parts(event: ConnectEvent, session: ChatSession) -> Planned:
    content_type = event.content_type.split(";", 1)[0].strip().lower()
    if content_type == "text/plain":
        text = event.content
    elif content_type == _MARKDOWN:
        text = markdown_to_whatsapp(event.content)
    elif content_type == INTERACTIVE_CONTENT_TYPE:
        choices = interactive_choices(event.content, session.customer)
        if choices is not None:
            return [Part(purpose="choices", choices=choices, claim=f"connect:{event.event_id}:0")]
        text = interactive_as_text(event.content)
        if not text.strip():
            # Nothing readable: the agent is told, the customer gets nothing.
            return Failure.of(
                FailureReason.MALFORMED,
                direction=Direction.TO_CUSTOMER,
                subject="message",
                detail="an interactive message with nothing WhatsApp can show",
            )
    else:
        return event_outcome(
            event, "skipped", reason=f"content type {content_type}", session=session
        )
    parts = text_parts("text", text, WHATSAPP_TEXT_LIMIT)
    if not parts:
        return event_outcome(event, "skipped", reason="empty message", session=session)
    # SendWhatsAppMessage takes no ClientToken: each part is claimed on its own, so a retry
    # after a later part failed resends only what the customer does not have yet.
    return [replace(part, claim=f"connect:{event.event_id}:{part.index}") for part in parts]


def attachment_parts(event: ConnectEvent, session: ChatSession) -> Planned:
    """A file part per APPROVED attachment (one in practice); else why none goes."""
    parts: list[Part] = []
    dropped: list[Outcome] = []
    for attachment in event.attachments:
        if attachment.status is AttachmentStatus.REJECTED:
            logger.warning(
                "attachment %s of contact %s was rejected by Connect; not sent",
                attachment.attachment_id,
                session.contact_id,
            )
            dropped.insert(
                0, event_outcome(event, "ignored", reason="attachment rejected", session=session)
            )
        elif attachment.status is not AttachmentStatus.APPROVED:
            status = attachment.status.value.lower()
            dropped.append(
                event_outcome(event, "skipped", reason=f"attachment {status}", session=session)
            )
        else:
            parts.append(
                Part(
                    purpose="file",
                    index=len(parts),
                    name=attachment.name,
                    attachment=attachment,
                    claim=f"connect:attachment:{attachment.attachment_id}",
                )
            )
    if parts:
        return parts
    if dropped:
        return dropped[0]
    return event_outcome(event, "skipped", reason="no attachment", session=session)


def event_parts(
    event: ConnectEvent, session: ChatSession, *, log: MessageLog, mark_read: bool
) -> Planned:
    """A typing indicator, for a typing event; other events reach nobody."""
    name = event.event_name
    if name == "participant.left":
        return event_outcome(event, "skipped", reason="agent left (not the end)", session=session)
    if name != "typing":
        return event_outcome(event, "skipped", reason=name or "event", session=session)
    if not mark_read:
        # WhatsApp's typing indicator is a read receipt too: it would mark the message read
        # against the operator's setting.
        return event_outcome(event, "skipped", reason="typing: read receipts are off")
    try:
        wamid = log.latest_from_customer(session.key)
    except DeliveryError as exc:
        logger.info("no message for the typing indicator of %s: %s", session.contact_id, exc)
        wamid = ""
    if not wamid:
        return event_outcome(event, "skipped", reason="typing: no message to show it on")
    return [Part(purpose="typing", about=wamid, claim=f"connect:{event.event_id}")]
