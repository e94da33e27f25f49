"""What Amazon Connect streams about a chat, and the rule for what reaches the customer."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

EVENT_PREFIX = "application/vnd.amazonaws.connect.event."
INTERACTIVE_CONTENT_TYPE = "application/vnd.amazonaws.connect.message.interactive"


class _Parsable(enum.StrEnum):
    @classmethod
    def parse(cls, value: str) -> Any:
        try:
            return cls(value)
        except ValueError:
            logger.warning("unknown %s %r", cls.__name__, value)
            return cls("UNKNOWN")


class EventType(_Parsable):
    MESSAGE = "MESSAGE"
    EVENT = "EVENT"
    ATTACHMENT = "ATTACHMENT"
    # Delivered/read receipts of a message (``MessageMetadata``); nothing for the customer yet.
    MESSAGEMETADATA = "MESSAGEMETADATA"
    UNKNOWN = "UNKNOWN"


class ParticipantRole(_Parsable):
    AGENT = "AGENT"
    CUSTOMER = "CUSTOMER"
    SYSTEM = "SYSTEM"
    CUSTOM_BOT = "CUSTOM_BOT"
    SUPERVISOR = "SUPERVISOR"
    UNKNOWN = "UNKNOWN"


class Visibility(_Parsable):
    CUSTOMER = "CUSTOMER"
    AGENT = "AGENT"
    ALL = "ALL"
    UNKNOWN = "UNKNOWN"


class AttachmentStatus(_Parsable):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    IN_PROGRESS = "IN_PROGRESS"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectAttachment:
    attachment_id: str
    name: str
    content_type: str
    status: AttachmentStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectEvent:
    """One streaming notification from Connect: a message, an attachment or an event."""

    event_id: str
    type: EventType
    content_type: str
    contact_id: str
    initial_contact_id: str
    role: ParticipantRole
    content: str = ""
    participant_id: str = ""
    display_name: str = ""
    absolute_time: str = ""
    attachments: tuple[ConnectAttachment, ...] = ()
    # A notification without MessageVisibility counts as ALL.
    visibility: Visibility = Visibility.ALL
    instance_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def event_name(self) -> str:
        """``typing``, ``chat.ended``, ... for EVENTs; empty otherwise."""
        if self.content_type.startswith(EVENT_PREFIX):
            return self.content_type[len(EVENT_PREFIX) :]
        return ""

    @property
    def for_customer(self) -> bool:
        """The routing rule: visible to the customer and not the customer's own echo."""
        return (
            self.visibility in (Visibility.CUSTOMER, Visibility.ALL)
            and self.role is not ParticipantRole.CUSTOMER
        )

    @property
    def session_ids(self) -> tuple[str, ...]:
        """Contact ids to find the session by, best first (a transfer changes ContactId)."""
        ids = [i for i in (self.initial_contact_id, self.contact_id) if i]
        return tuple(dict.fromkeys(ids))
