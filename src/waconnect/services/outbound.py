"""Agent → customer: each Connect streaming event becomes at most one effect on WhatsApp.

Routing first (our own echo and agent-only traffic stop here), then the session by contact id,
then a claim of the event in the Ledger — SNS delivers at least once — and the effect: a text,
a file sent by WhatsApp media id, a typing indicator, or the session closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from waconnect.domain.connect import (
    INTERACTIVE_CONTENT_TYPE,
    AttachmentStatus,
    ConnectAttachment,
    ConnectEvent,
    EventType,
    ParticipantRole,
)
from waconnect.domain.failures import Direction, Failure, FailureReason, failure_from_error
from waconnect.domain.markdown import markdown_to_whatsapp
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import (
    MediaKind,
    Outgoing,
    OutgoingChoices,
    OutgoingMedia,
    OutgoingText,
    ReadReceipt,
)
from waconnect.domain.session import ChatSession
from waconnect.domain.text import WHATSAPP_TEXT_LIMIT, split_text
from waconnect.errors import (
    DeliveryError,
    DoesNotFit,
    PermanentError,
    TransientError,
)
from waconnect.media.examine import examine_stored
from waconnect.media.policy import OutboundPlan, document_instead, outbound_plan
from waconnect.ports import DEFAULT_LEASE_SECONDS, LoggedMessage
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery
from waconnect.services.interactive import interactive_as_text, interactive_choices
from waconnect.services.outcome import Outcome, OutcomeKind
from waconnect.services.ports_bundle import BridgePorts
from waconnect.services.redact import mask
from waconnect.services.snippets import agent_file_snippet

logger = logging.getLogger(__name__)

_MARKDOWN = "text/markdown"


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
        self._media = ports.media
        self._whatsapp = ports.whatsapp
        self._connect = ports.connect
        self._converter = ports.converter
        self._log = ports.message_log
        self._remember_snippets = remember_snippets
        self._clock = ports.clock
        self._delivery = Delivery(
            ledger=ports.ledger,
            connect=ports.connect,
            whatsapp=ports.whatsapp,
            lease_seconds=lease_seconds,
        )
        self._chats = ChatLifecycle(
            sessions=ports.sessions, connect=ports.connect, clock=ports.clock
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
        if event.type is EventType.EVENT and _ends_chat(event):
            return self._close(event)
        if not event.for_customer:
            reason = (
                "own echo"
                if event.role is ParticipantRole.CUSTOMER
                else f"visibility {event.visibility.value}"
            )
            return _outcome(event, "skipped", reason=reason)
        session = self.session_for(event)
        if session is None:
            if not self._first_time(event):
                return _outcome(event, "duplicate")
            logger.info("event %s for unknown contact %s ignored", event.event_id, event.contact_id)
            return _outcome(event, "ignored", reason="unknown contact")
        if session.ended:
            # Connect lets nobody write into an ended chat; a late event (a replay, an attachment
            # scanned after the end) must not reach a customer who has moved on.
            if not self._first_time(event):
                return _outcome(event, "duplicate", session=session)
            logger.info("event %s for ended chat %s ignored", event.event_id, session.contact_id)
            return _outcome(event, "ignored", reason="chat ended", session=session)
        if event.type is EventType.MESSAGE:
            return self._message(event, session)
        if event.type is EventType.ATTACHMENT:
            return self._attachments(event, session)
        if event.type is EventType.EVENT:
            return self._event(event, session)
        return _outcome(event, "skipped", reason=f"type {event.type.value}", session=session)

    # ---- messages -----------------------------------------------------------------------------

    def _message(self, event: ConnectEvent, session: ChatSession) -> Outcome:
        content_type = event.content_type.split(";", 1)[0].strip().lower()
        if content_type == "text/plain":
            text = event.content
        elif content_type == _MARKDOWN:
            text = markdown_to_whatsapp(event.content)
        elif content_type == INTERACTIVE_CONTENT_TYPE:
            choices = interactive_choices(event.content, session.customer)
            if choices is not None:
                return self._choices(event, session, choices)
            text = interactive_as_text(event.content)
            if not text.strip():
                return self._unshowable_interactive(event, session)
        else:
            return _outcome(
                event, "skipped", reason=f"content type {content_type}", session=session
            )
        parts = split_text(text, WHATSAPP_TEXT_LIMIT) if text.strip() else []
        if not parts:
            return _outcome(event, "skipped", reason="empty message", session=session)

        def send_part(part: str) -> Callable[[str], None]:
            def send(claim: str) -> None:
                outgoing = OutgoingText(to=session.customer, text=part)
                wamid = self._send_once(claim, session, outgoing)
                if wamid:
                    self._remember(session, wamid, part)

            return send

        # SendWhatsAppMessage takes no ClientToken: each part is claimed on its own, so a retry
        # after a later part failed resends only what the customer does not have yet.
        steps = [
            (f"connect:{event.event_id}:{index}", send_part(part))
            for index, part in enumerate(parts)
        ]
        return self._once_each(steps, event, session, subject="message")

    def _choices(
        self, event: ConnectEvent, session: ChatSession, choices: OutgoingChoices
    ) -> Outcome:
        def send(claim: str) -> None:
            wamid = self._send_once(claim, session, choices)
            if wamid:
                self._remember(session, wamid, choices.body)

        return self._once_each(
            [(f"connect:{event.event_id}:0", send)], event, session, subject="message"
        )

    def _unshowable_interactive(self, event: ConnectEvent, session: ChatSession) -> Outcome:
        """Nothing readable: the agent is told, the customer gets nothing."""
        failure = Failure.of(
            FailureReason.MALFORMED,
            direction=Direction.TO_CUSTOMER,
            subject="message",
            detail="an interactive message with nothing WhatsApp can show",
        )
        return self._tell_agent(event, failure, session=session)

    # ---- attachments --------------------------------------------------------------------------

    def _attachments(self, event: ConnectEvent, session: ChatSession) -> Outcome:
        outcomes = [self._attachment(event, session, a) for a in event.attachments]
        if not outcomes:
            return _outcome(event, "skipped", reason="no attachment", session=session)
        # One event carries one attachment in practice; report the most telling outcome.
        for kind in ("failed", "delivered", "ignored", "duplicate"):
            for outcome in outcomes:
                if outcome.kind == kind:
                    return outcome
        return outcomes[0]

    def _attachment(
        self, event: ConnectEvent, session: ChatSession, attachment: ConnectAttachment
    ) -> Outcome:
        if attachment.status is AttachmentStatus.REJECTED:
            logger.warning(
                "attachment %s of contact %s was rejected by Connect; not sent",
                attachment.attachment_id,
                session.contact_id,
            )
            return _outcome(event, "ignored", reason="attachment rejected", session=session)
        if attachment.status is not AttachmentStatus.APPROVED:
            return _outcome(
                event,
                "skipped",
                reason=f"attachment {attachment.status.value.lower()}",
                session=session,
            )

        def send(claim: str) -> None:
            self._send_file(claim, session, attachment)

        # The attachment id alone: Connect may publish the same APPROVED attachment again under
        # a new event Id, and the customer must get the file once.
        claim = f"connect:attachment:{attachment.attachment_id}"
        return self._once_each([(claim, send)], event, session, subject=attachment.name or "file")

    def _send_file(self, claim: str, session: ChatSession, attachment: ConnectAttachment) -> None:
        key = f"outbound/{session.contact_id}/{attachment.attachment_id}/"

        def download(current: ChatSession) -> StoredMedia:
            got = self._connect.get_attachment(
                current.connection_token,
                attachment.attachment_id,
                name=attachment.name,
                content_type=attachment.content_type,
                key=key,
            )
            return replace(got.stored, filename=got.name)

        stored = self._chats.call(session, download)
        found = examine_stored(
            self._media,
            stored,
            declared=stored.content_type or attachment.content_type,
            filename=stored.filename,
        )
        content_type = found.content_type
        plan = outbound_plan(content_type, stored.size, name=stored.filename, refusal=found.refusal)
        if plan.action == "notice":
            if stored.size <= 0:
                refusal = FailureReason.MEDIA_FETCH_FAILED
            elif found.refused:
                refusal = FailureReason.FILE_REFUSED
            elif plan.too_large:
                refusal = FailureReason.MEDIA_TOO_LARGE
            else:
                refusal = FailureReason.MEDIA_TYPE_REFUSED
            raise _PolicyRefusal(plan.reason, refusal=refusal)
        if plan.action == "convert":
            stored, plan = self._converted(replace(stored, content_type=content_type), plan, key)
        if plan.content_type != stored.content_type:
            # WhatsApp reads the type of the stored object, not of this record: store it again.
            stored = self._restored(stored, f"{key}whatsapp/{plan.filename}", plan.content_type)
        stored = replace(stored, filename=plan.filename)
        media_id = self._whatsapp.upload_media(session.business, stored)
        message = OutgoingMedia(
            to=session.customer,
            kind=plan.kind,
            media_id=media_id,
            filename=plan.filename if plan.kind is MediaKind.DOCUMENT else "",
            voice=plan.voice,
        )
        wamid = self._send_once(claim, session, message)
        if wamid:
            # Quoted back to the agent under the name the agent gave it, not the converted one.
            self._remember(session, wamid, agent_file_snippet(attachment.name or plan.filename))

    def _converted(
        self, stored: StoredMedia, plan: OutboundPlan, key: str
    ) -> tuple[StoredMedia, OutboundPlan]:
        """The file ``plan`` converts ``stored`` to, and the plan to send it by: the same, or a
        document when a photo or a video could not be made to fit its kind."""
        try:
            converted = self._converter.convert(
                stored, target=plan.target, key=f"{key}converted/{plan.filename}",
                max_bytes=plan.max_bytes,
            )  # fmt: skip
            return converted.stored, plan
        except PermanentError as exc:
            instead = document_instead(
                plan, stored.content_type, stored.size, name=stored.filename,
                does_not_fit=isinstance(exc, DoesNotFit),
            )  # fmt: skip
            if instead is None:
                raise
            logger.info("%s goes as a document: %s", plan.kind.value, exc)
        if instead.action == "send":
            return stored, instead
        converted = self._converter.convert(
            stored, target=instead.target, key=f"{key}document/{instead.filename}",
            max_bytes=instead.max_bytes,
        )  # fmt: skip
        return converted.stored, instead

    def _send_once(self, claim: str, session: ChatSession, message: Outgoing) -> str:
        return self._delivery.to_customer(claim, session.business, message)

    def _restored(self, media: StoredMedia, key: str, content_type: str) -> StoredMedia:
        with self._media.open(media) as chunks:
            return self._media.put(key, chunks, content_type=content_type, filename=media.filename)

    def _remember(self, session: ChatSession, wamid: str, text: str) -> None:
        """Keep what the agent sent, so the customer's reply or reaction to it can quote it."""
        entry = LoggedMessage.of(
            wamid=wamid,
            key=session.key,
            author="agent",
            text=text if self._remember_snippets else "",
            at=self._clock.now(),
        )
        try:
            self._log.remember(entry)
        except DeliveryError as exc:
            # Sent is sent: failing here would only make a retry send it twice.
            logger.warning("message %s not remembered: %s", mask(wamid), exc)

    # ---- events -------------------------------------------------------------------------------

    def _event(self, event: ConnectEvent, session: ChatSession) -> Outcome:
        name = event.event_name
        if name == "typing":
            if not self._mark_read:
                # WhatsApp's typing indicator is a read receipt too: it would mark the message
                # read against the operator's setting.
                return _outcome(event, "skipped", reason="typing: read receipts are off")
            try:
                wamid = self._log.latest_from_customer(session.key)
            except DeliveryError as exc:
                logger.info(
                    "no message for the typing indicator of %s: %s", session.contact_id, exc
                )
                wamid = ""
            if not wamid:
                return _outcome(event, "skipped", reason="typing: no message to show it on")
            if not self._first_time(event):
                return _outcome(event, "duplicate", session=session)
            try:
                self._whatsapp.send(session.business, ReadReceipt(message_id=wamid, typing=True))
            except TransientError:
                raise
            except DeliveryError as exc:
                # A typing indicator is worth nothing later: never a failure to report.
                logger.info("typing indicator for contact %s not sent: %s", session.contact_id, exc)
                return _outcome(event, "skipped", reason="typing indicator refused")
            return _outcome(event, "delivered", session=session)
        if name == "participant.left":
            return _outcome(event, "skipped", reason="agent left (not the end)", session=session)
        return _outcome(event, "skipped", reason=name or "event", session=session)

    def _first_time(self, event: ConnectEvent) -> bool:
        """Claim an event that has no parts of its own, so a redelivery of it does nothing."""
        return self._ledger.claim(f"connect:{event.event_id}")

    def _close(self, event: ConnectEvent) -> Outcome:
        session = self.session_for(event)
        if session is None:
            return _outcome(event, "ignored", reason="unknown contact")
        if not session.ended:
            self._chats.close(session)
            logger.info("chat %s ended (%s)", session.contact_id, event.event_name)
        return _outcome(event, "delivered", reason="chat ended", session=session)

    # ---- once, with failures reported ---------------------------------------------------------

    def _once_each(
        self,
        steps: list[tuple[str, Callable[[str], None]]],
        event: ConnectEvent,
        session: ChatSession,
        *,
        subject: str,
    ) -> Outcome:
        """Run each (claim, send) step not done yet, in order, each under a lease.

        A step another worker holds defers the event; a step whose worker died is taken over
        once its lease runs out. A transient error (or any unexpected one) releases only the
        failing step and propagates, so a retry resumes there; any other ``DeliveryError``
        finishes it and is reported as this event's one failure.
        """
        sent = 0
        for claim, send in steps:
            state = self._ledger.lease(claim, seconds=self._lease)
            if state == "done":
                continue
            if state == "held":
                logger.info("event %s in progress elsewhere; deferred", event.event_id)
                later = max(1.0, self._lease / 4)
                return replace(
                    _outcome(event, "deferred", reason="in progress", session=session),
                    retry_after=later,
                )
            try:
                send(claim)
            except DeliveryError as exc:
                if isinstance(exc, TransientError):
                    self._ledger.release(claim)
                    raise
                self._ledger.finish(claim)
                return self.report_failure(event, exc, session=session, subject=subject)
            except BaseException:
                self._ledger.release(claim)
                raise
            self._ledger.finish(claim)
            sent += 1
        if not sent:
            return _outcome(event, "duplicate", reason="already sent", session=session)
        logger.info("event %s sent to customer %s", event.event_id, mask(session.customer.identity))
        return _outcome(event, "delivered", session=session)

    def report_failure(
        self, event: ConnectEvent, error: DeliveryError, *, session: ChatSession, subject: str
    ) -> Outcome:
        """Tell the agent, in the chat when it is reachable, what did not reach the customer."""
        if isinstance(error, _PolicyRefusal):
            failure = Failure.of(
                error.refusal, direction=Direction.TO_CUSTOMER, subject=subject, detail=str(error)
            )
        else:
            failure = failure_from_error(error, subject=subject, direction=Direction.TO_CUSTOMER)
        return self._tell_agent(event, failure, session=session)

    def _tell_agent(
        self, event: ConnectEvent, failure: Failure, *, session: ChatSession
    ) -> Outcome:
        logger.warning("event %s not delivered: %s", event.event_id, failure.reason.value)

        if not session.ended and failure.agent_text:
            source = f"connect:{event.event_id}"
            self._chats.tell_agent(session, [failure.agent_text], source=source, purpose="failure")
        return _outcome(
            event, "failed", reason=failure.reason.value, session=session, failure=failure
        )


class _PolicyRefusal(PermanentError):
    """An agent's file WhatsApp would not take (empty, too large, or of a type it refuses)."""

    def __init__(self, reason: str, *, refusal: FailureReason) -> None:
        super().__init__(reason, operation="upload_media")
        self.refusal = refusal


def _ends_chat(event: ConnectEvent) -> bool:
    name = event.event_name
    return name == "chat.ended" or (
        name == "participant.left" and event.role is ParticipantRole.CUSTOMER
    )


def _outcome(
    event: ConnectEvent,
    kind: OutcomeKind,
    *,
    reason: str = "",
    session: ChatSession | None = None,
    failure: Failure | None = None,
) -> Outcome:
    return Outcome(
        kind=kind,
        reason=reason,
        customer=session.customer.identity if session is not None else "",
        contact_id=session.contact_id if session is not None else event.contact_id,
        failure=failure,
    )
