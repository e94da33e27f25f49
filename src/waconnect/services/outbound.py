"""Agent → customer: each Connect streaming event becomes at most one effect on WhatsApp.

Routing first (our own echo and agent-only traffic stop here), then the session by contact id;
then the event is planned as parts (``outbound_plan``: text parts, a file, a typing indicator,
the end of the chat) and delivered by the shared engine, each part claimed in the Ledger (SNS
delivers at least once) and each WhatsApp send made at most once.
"""

from __future__ import annotations

import logging

from waconnect.domain.connect import ConnectEvent, EventType, ParticipantRole
from waconnect.domain.failures import Direction, Failure, failure_from_error
from waconnect.domain.outgoing import Outgoing, OutgoingText, ReadReceipt
from waconnect.domain.session import ChatSession
from waconnect.errors import DeliveryError
from waconnect.ports import DEFAULT_LEASE_SECONDS
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery, Part, Progress
from waconnect.services.memory import MessageMemory
from waconnect.services.outbound_files import FileRefused, OutboundFiles
from waconnect.services.outbound_plan import (
    Planned,
    attachment_parts,
    ends_chat,
    event_parts,
    message_parts,
)
from waconnect.services.outcome import Outcome, event_outcome
from waconnect.services.ports_bundle import BridgePorts
from waconnect.services.redact import mask
from waconnect.services.snippets import agent_file_snippet

logger = logging.getLogger(__name__)


class OutboundService:
    def __init__(
        self,
        ports: BridgePorts,
        *,
        remember_snippets: bool = True,
        mark_read: bool = True,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._lease = lease_seconds
        self._sessions = ports.sessions
        self._mark_read = mark_read
        self._ledger = ports.ledger
        self._whatsapp = ports.whatsapp
        self._log = ports.message_log
        self._memory = MessageMemory(ports.message_log, ports.clock, snippets=remember_snippets)
        self._delivery = Delivery(
            ledger=ports.ledger,
            connect=ports.connect,
            whatsapp=ports.whatsapp,
            lease_seconds=lease_seconds,
        )
        self._chats = ChatLifecycle(
            sessions=ports.sessions, connect=ports.connect, clock=ports.clock
        )
        self._files = OutboundFiles(
            connect=ports.connect,
            whatsapp=ports.whatsapp,
            media=ports.media,
            converter=ports.converter,
            chats=self._chats,
        )

    def session_for(self, event: ConnectEvent) -> ChatSession | None:
        """The session an event belongs to: by InitialContactId first, then ContactId."""
        for contact_id in event.session_ids:
            session = self._sessions.find_by_contact(contact_id)
            if session is not None:
                return session
        return None

    def handle_agent_event(self, event: ConnectEvent) -> Outcome:
        """Forward one event to the customer, or say why not. ``TransientError`` propagates."""
        if event.type is EventType.EVENT and ends_chat(event):
            return self._close(event)
        if not event.for_customer:
            reason = (
                "own echo"
                if event.role is ParticipantRole.CUSTOMER
                else f"visibility {event.visibility.value}"
            )
            return event_outcome(event, "skipped", reason=reason)
        session = self.session_for(event)
        if session is None:
            if not self._first_time(event):
                return event_outcome(event, "duplicate")
            logger.info("event %s for unknown contact %s ignored", event.event_id, event.contact_id)
            return event_outcome(event, "ignored", reason="unknown contact")
        if session.ended:
            # Connect lets nobody write into an ended chat; a late event (a replay, an attachment
            # scanned after the end) must not reach a customer who has moved on.
            if not self._first_time(event):
                return event_outcome(event, "duplicate", session=session)
            logger.info("event %s for ended chat %s ignored", event.event_id, session.contact_id)
            return event_outcome(event, "ignored", reason="chat ended", session=session)
        planned = self._plan(event, session)
        if isinstance(planned, Outcome):
            return planned
        if isinstance(planned, Failure):
            return self._tell_agent(event, planned, session=session)
        return self._deliver(event, session, planned)

    def _plan(self, event: ConnectEvent, session: ChatSession) -> Planned:
        if event.type is EventType.MESSAGE:
            return message_parts(event, session)
        if event.type is EventType.ATTACHMENT:
            return attachment_parts(event, session)
        if event.type is EventType.EVENT:
            return event_parts(event, session, log=self._log, mark_read=self._mark_read)
        return event_outcome(event, "skipped", reason=f"type {event.type.value}", session=session)

    def _close(self, event: ConnectEvent) -> Outcome:
        session = self.session_for(event)
        if session is None:
            return event_outcome(event, "ignored", reason="unknown contact")
        if not session.ended:
            self._delivery.to_customer([Part(purpose="close")], lambda p: self._send(session, p))
            logger.info("chat %s ended (%s)", session.contact_id, event.event_name)
        return event_outcome(event, "delivered", reason="chat ended", session=session)

    def _first_time(self, event: ConnectEvent) -> bool:
        """Claim an event that has no parts of its own, so a redelivery of it does nothing."""
        return self._ledger.claim(f"connect:{event.event_id}")

    # ---- delivering ---------------------------------------------------------------------------

    def _deliver(self, event: ConnectEvent, session: ChatSession, parts: list[Part]) -> Outcome:
        def send(part: Part) -> None:
            self._send(session, part)

        progress = self._delivery.to_customer(parts, send)
        return self._settled(event, session, progress)

    def _send(self, session: ChatSession, part: Part) -> None:
        if part.purpose == "close":
            self._chats.close(session)
            return
        if part.purpose == "typing":
            self._whatsapp.send(session.business, ReadReceipt(message_id=part.about, typing=True))
            return
        if part.attachment is not None:
            message: Outgoing
            message, name = self._files.message(session, part.attachment)
            # Quoted back to the agent under the name the agent gave it, not the converted one.
            snippet = agent_file_snippet(part.attachment.name or name)
        elif part.choices is not None:
            message, snippet = part.choices, part.choices.body
        else:
            message, snippet = OutgoingText(to=session.customer, text=part.text), part.text
        wamid = self._delivery.send_once(part.claim, session.business, message)
        if wamid:
            self._memory.remember(wamid=wamid, key=session.key, author="agent", text=snippet)

    def _settled(self, event: ConnectEvent, session: ChatSession, progress: Progress) -> Outcome:
        if progress.held:
            logger.info("event %s in progress elsewhere; deferred", event.event_id)
            later = max(1.0, self._lease / 4)
            return event_outcome(
                event, "deferred", reason="in progress", session=session, retry_after=later
            )
        if progress.failure is not None and progress.part is not None:
            failed = progress.part
            if failed.purpose == "typing":
                # A typing indicator is worth nothing later: never a failure to report.
                logger.info(
                    "typing indicator for contact %s not sent: %s",
                    session.contact_id,
                    progress.failure,
                )
                return event_outcome(event, "skipped", reason="typing indicator refused")
            subject = (failed.name or "file") if failed.attachment is not None else "message"
            return self.report_failure(event, progress.failure, session=session, subject=subject)
        if not progress.sent:
            return event_outcome(event, "duplicate", reason="already sent", session=session)
        logger.info("event %s sent to customer %s", event.event_id, mask(session.customer.identity))
        return event_outcome(event, "delivered", session=session)

    # ---- failures -----------------------------------------------------------------------------

    def report_failure(
        self, event: ConnectEvent, error: DeliveryError, *, session: ChatSession, subject: str
    ) -> Outcome:
        """Tell the agent, in the chat when it is reachable, what did not reach the customer."""
        if isinstance(error, FileRefused):
            failure = error.failure(subject)
        else:
            failure = failure_from_error(error, subject=subject, direction=Direction.TO_CUSTOMER)
        return self._tell_agent(event, failure, session=session)

    def _tell_agent(
        self, event: ConnectEvent, failure: Failure, *, session: ChatSession
    ) -> Outcome:
        logger.warning("event %s not delivered: %s", event.event_id, failure.reason.value)
        self._chats.tell_failure(session, failure, source=f"connect:{event.event_id}")
        return event_outcome(
            event, "failed", reason=failure.reason.value, session=session, failure=failure
        )
