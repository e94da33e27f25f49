"""Amazon Connect chat state shared by the Connect and Participant Service emulators."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from waconnect.sandbox import limits
from waconnect.sandbox.blobs import Blob
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.envelopes import connect_stream_attributes, connect_stream_message
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.protocol import ApiError, access_denied
from waconnect.sandbox.topics import Topic, iso_millis

logger = logging.getLogger(__name__)


@dataclass(slots=True, kw_only=True)
class Connection:
    token: str
    expires: float
    revoked: bool = False


@dataclass(slots=True, kw_only=True)
class Participant:
    participant_id: str
    role: str
    display_name: str
    token: str = ""
    connected: bool = False
    connections: list[Connection] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Attachment:
    attachment_id: str
    contact_id: str
    name: str
    content_type: str
    size: int
    participant_id: str
    upload_expires: float = 0.0
    upload_headers: dict[str, str] = field(default_factory=dict)
    blob: Blob | None = None
    status: str = "PENDING_UPLOAD"


@dataclass(slots=True, kw_only=True)
class Contact:
    contact_id: str
    initial_contact_id: str
    customer: str | None
    started: float
    ends_at: float
    customer_participant: Participant
    content_types: frozenset[str]
    agent: Participant | None = None
    ended: bool = False
    topics: list[str] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    # (operation, ClientToken) -> the first result, so a retry changes nothing.
    idempotent: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return not self.ended


class ChatState:
    """Every contact, participant, connection and attachment, behind one lock."""

    def __init__(
        self,
        *,
        ids: IdSource,
        clock: SandboxClock,
        journal: Journal,
        topic: Callable[[str], Topic | None],
        instance_id: str,
        account_id: str,
    ) -> None:
        self.lock = threading.RLock()
        self.ids = ids
        self.clock = clock
        self.journal = journal
        self._topic = topic
        self.instance_id = instance_id
        self.account_id = account_id
        self.contacts: dict[str, Contact] = {}
        self.attachments: dict[str, Attachment] = {}
        self.start_tokens: dict[str, dict[str, Any]] = {}
        # Connect's quota of concurrent active chats; StartChatContact refuses past it.
        self.active_chat_quota = limits.CONNECT_MAX_ACTIVE_CHATS
        self._by_participant_token: dict[str, str] = {}
        self._by_connection_token: dict[str, str] = {}

    # --- lookups -------------------------------------------------------------------------------

    def contact(self, contact_id: str) -> Contact:
        with self.lock:
            contact = self.contacts.get(contact_id)
            if contact is None:
                raise ApiError("ResourceNotFoundException", f"contact {contact_id} not found", 404)
            self._expire_if_due(contact)
            return contact

    def by_participant_token(self, token: str) -> Contact:
        with self.lock:
            contact_id = self._by_participant_token.get(token)
            if contact_id is None:
                raise access_denied("Invalid participant token")
            contact = self.contact(contact_id)
            if contact.ended:
                raise access_denied("The chat has ended")
            return contact

    def by_connection_token(self, token: str) -> tuple[Contact, Participant]:
        with self.lock:
            contact_id = self._by_connection_token.get(token)
            if contact_id is None:
                raise access_denied("Invalid connection token")
            contact = self.contact(contact_id)
            if contact.ended:
                raise access_denied("The chat has ended")
            participant = contact.customer_participant
            connection = next(c for c in participant.connections if c.token == token)
            if connection.revoked or self.clock.now() >= connection.expires:
                raise access_denied("The connection token has expired")
            return contact, participant

    def active_for(self, customer: str) -> Contact | None:
        with self.lock:
            self.sweep()
            for contact in reversed(self.contacts.values()):
                if contact.active and contact.customer == customer:
                    return contact
            return None

    def active_count(self) -> int:
        with self.lock:
            self.sweep()
            return sum(1 for contact in self.contacts.values() if contact.active)

    # --- changes -------------------------------------------------------------------------------

    def add_contact(self, contact: Contact) -> None:
        with self.lock:
            self.contacts[contact.contact_id] = contact
            self._by_participant_token[contact.customer_participant.token] = contact.contact_id

    def new_connection(self, contact: Contact, participant: Participant) -> Connection:
        with self.lock:
            connection = Connection(
                token=self.ids.token(300),
                expires=self.clock.now() + limits.CONNECTION_TOKEN_SECONDS,
            )
            participant.connections.append(connection)
            self._by_connection_token[connection.token] = contact.contact_id
            return connection

    def revoke_connections(self, contact: Contact) -> None:
        with self.lock:
            for connection in contact.customer_participant.connections:
                connection.revoked = True

    def agent_of(self, contact: Contact) -> Participant:
        """The agent on the contact, joining (with its event) on first use."""
        with self.lock:
            if contact.agent is None:
                contact.agent = Participant(
                    participant_id=self.ids.uuid(), role="AGENT", display_name="Agent"
                )
                self.add_item(
                    contact,
                    participant=contact.agent,
                    kind="EVENT",
                    content_type=limits.PARTICIPANT_JOINED,
                )
            return contact.agent

    def add_item(
        self,
        contact: Contact,
        *,
        participant: Participant | None,
        kind: str,
        content_type: str,
        content: str | None = None,
        attachments: list[dict[str, str]] | None = None,
        visibility: str = "ALL",
    ) -> dict[str, Any]:
        """Append an item to the transcript and stream it to the contact's topics."""
        with self.lock:
            item: dict[str, Any] = {
                "AbsoluteTime": iso_millis(self.clock.now()),
                "Id": self.ids.uuid(),
                "Type": kind,
                "ContentType": content_type,
            }
            if content is not None:
                item["Content"] = content
            if participant is not None:
                item["ParticipantId"] = participant.participant_id
                item["DisplayName"] = participant.display_name
                item["ParticipantRole"] = participant.role
            else:
                item["ParticipantRole"] = "SYSTEM"
            if attachments is not None:
                item["Attachments"] = attachments
            contact.transcript.append(item)
            self.stream(contact, item, visibility=visibility)
            return item

    def stream(self, contact: Contact, item: dict[str, Any], *, visibility: str = "ALL") -> None:
        with self.lock:
            document = connect_stream_message(
                item=item,
                contact_id=contact.contact_id,
                initial_contact_id=contact.initial_contact_id,
            )
            attributes = connect_stream_attributes(
                item=item,
                contact_id=contact.contact_id,
                initial_contact_id=contact.initial_contact_id,
                instance_id=self.instance_id,
                account_id=self.account_id,
                visibility=visibility,
            )
            for arn in contact.topics:
                topic = self._topic(arn)
                if topic is not None:
                    topic.publish(document, attributes=attributes)

    def end(self, contact: Contact, *, leaving: Participant | None) -> None:
        """End the chat: the leaver's event, ``chat.ended``, and every token refused from now on."""
        with self.lock:
            if contact.ended:
                return
            if leaving is not None:
                self.add_item(
                    contact, participant=leaving, kind="EVENT", content_type=limits.PARTICIPANT_LEFT
                )
            self.add_item(contact, participant=None, kind="EVENT", content_type=limits.CHAT_ENDED)
            contact.ended = True
            self.journal.record(to="system", kind="chat.ended", contact_id=contact.contact_id)
            logger.info("chat %s ended", contact.contact_id)

    def sweep(self) -> None:
        """End every chat whose duration has elapsed on the sandbox clock."""
        with self.lock:
            for contact in list(self.contacts.values()):
                self._expire_if_due(contact)

    def _expire_if_due(self, contact: Contact) -> None:
        if contact.active and self.clock.now() >= contact.ends_at:
            self.end(contact, leaving=None)
