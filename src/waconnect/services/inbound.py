"""Customer → agent: each WhatsApp message reaches the agent's Connect chat exactly once.

Per message: claim its wamid in the Ledger, find or open the customer's chat, fetch and plan any
file, then send every part (file, caption, notice, text parts) with ClientTokens derived from
the wamid — so a retry, or a rerun in a new chat when the old one turns out to be over, repeats
nothing the agent already has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from waconnect.domain.failures import Direction, Failure, FailureReason, failure_from_error
from waconnect.domain.media import StoredMedia
from waconnect.domain.render import render_for_agent
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.domain.whatsapp import InboundBatch, InboundMessage, StatusUpdate
from waconnect.errors import CapacityExceeded, DeliveryError, TransientError
from waconnect.log_setup import add_log_ids
from waconnect.media.policy import ConnectLimits
from waconnect.on_demand import OnDemand
from waconnect.ports import DEFAULT_LEASE_SECONDS
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery, Part, text_parts
from waconnect.services.feedback import CustomerFeedback, FeedbackSettings
from waconnect.services.identity import known_keys, session_key
from waconnect.services.memory import MessageMemory
from waconnect.services.outcome import Outcome, message_outcome
from waconnect.services.ports_bundle import BridgePorts
from waconnect.services.redact import mask
from waconnect.services.snippets import customer_snippet, quoted_wamid, worth_remembering
from waconnect.services.statuses import StatusNotices
from waconnect.services.transcripts import VoiceTranscripts

if TYPE_CHECKING:
    from waconnect.services.inbound_files import InboundFiles

logger = logging.getLogger(__name__)


class InboundService:
    def __init__(
        self,
        ports: BridgePorts,
        *,
        transcripts: VoiceTranscripts | None = None,
        feedback: FeedbackSettings | None = None,
        limits: ConnectLimits | None = None,
        remember_snippets: bool = True,
        stickers: bool = True,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        connect_text_limit: int = CONNECT_TEXT_LIMIT,
    ) -> None:
        self._connect_text_limit = connect_text_limit
        self._ledger = ports.ledger
        self._sessions = ports.sessions
        self._lease = lease_seconds
        self._whatsapp = ports.whatsapp
        self._connect = ports.connect
        self._transcripts = transcripts
        self._log = ports.message_log
        self._memory = MessageMemory(ports.message_log, ports.clock, snippets=remember_snippets)
        self._chats = ChatLifecycle(
            sessions=ports.sessions, connect=ports.connect, clock=ports.clock
        )
        self._delivery = Delivery(
            ledger=ports.ledger,
            connect=ports.connect,
            whatsapp=ports.whatsapp,
            lease_seconds=lease_seconds,
        )
        self._files = OnDemand(
            lambda: _inbound_files(
                ports,
                limits=limits or ConnectLimits(),
                stickers=stickers,
                transcribe=transcripts is not None,
                connect_text_limit=connect_text_limit,
            )
        )
        self._feedback = CustomerFeedback(ports.whatsapp, feedback or FeedbackSettings())
        self._statuses = StatusNotices(
            sessions=ports.sessions,
            ledger=ports.ledger,
            log=ports.message_log,
            chats=self._chats,
        )

    def handle_customer_messages(self, batch: InboundBatch) -> list[Outcome]:
        """Every message of the batch, one at a time, in the order WhatsApp gave them."""
        return [self.handle_message(message) for message in batch.messages]

    def customer_key(self, message: InboundMessage) -> SessionKey:
        """The key of the customer's session, whichever of their ids the message carries
        (linking the other id when it carries both): what orders their messages."""
        return session_key(self._sessions, message.business, message.customer)

    def known_keys(self, message: InboundMessage) -> list[SessionKey]:
        """Every key the message's customer is known under (one per id, and their session's),
        without linking any: what names their kept messages and serialises their work."""
        return known_keys(self._sessions, message.business, message.customer)

    def handled_before(self, wamids: Sequence[str]) -> set[str]:
        """Those of ``wamids`` already handled (delivered, or failed with the customer told):
        one read of the ledger that takes no claim. It may miss one handled a moment ago."""
        claims = {_claim_key(wamid): wamid for wamid in wamids}
        return {claims[key] for key in self._ledger.finished(list(claims))}

    def handle_message(self, message: InboundMessage) -> Outcome:
        """Deliver one message; ``TransientError`` and ``CapacityExceeded`` propagate with the
        message's lease released, so that a retry does the rest.

        One worker at a time delivers a customer's messages, across processes: the customer's
        lease in the Ledger (so two workers never open two chats); another worker holding it
        means ``deferred``. The message itself is leased too: done means ``duplicate``; a live
        lease of another worker means ``deferred``; a lease that ran out (its worker died) is
        taken over, and the parts already recorded done are not sent again.
        """
        if not self._whatsapp.can_send_from(message.business):
            return self._unanswerable(message)
        key = session_key(self._sessions, message.business, message.customer)
        customer = _customer_key(key)
        if self._ledger.lease(customer, seconds=self._lease) == "held":
            logger.info("customer of %s busy in another worker; deferred", mask(message.wamid))
            return message_outcome(
                message, "deferred", reason="customer busy", retry_after=self._later()
            )
        try:
            return self._handle_leased(message, key)
        finally:
            self._ledger.release(customer)

    def _handle_leased(self, message: InboundMessage, key: SessionKey) -> Outcome:
        claim = _claim_key(message.wamid)
        state = self._ledger.lease(claim, seconds=self._lease)
        if state == "done":
            logger.info("duplicate message %s dropped", mask(message.wamid))
            return message_outcome(message, "duplicate", reason="already delivered")
        if state == "held":
            logger.info("message %s in progress elsewhere; deferred", mask(message.wamid))
            return message_outcome(
                message, "deferred", reason="in progress", retry_after=self._later()
            )
        session: ChatSession | None = None
        try:
            session = self._chats.open_for(message, key)
            add_log_ids(contact_id=session.contact_id)
            parts = self._prepare(message, key)
            # The last part and the message's claim are marked done together.
            session = self._send_parts(
                session, message, [p for p in parts if not p.recording], finish_with=(claim,)
            )
        except CapacityExceeded:
            self._ledger.release(claim)
            self._tell_queued(message, key)
            raise
        except TransientError:
            self._ledger.release(claim)
            raise
        except DeliveryError as exc:
            outcome = self._report(message, exc, session=session)
            self._ledger.finish(claim)
            return outcome
        except BaseException:
            # A bug or a broken store is not the message's fault: a retry must be able to redo it.
            self._ledger.release(claim)
            raise
        self._remember(session, message, parts)
        for part in parts:
            if part.recording and self._transcripts is not None:
                self._transcribe(session, message, part.recording)
        file_reached = any(p.media is not None for p in parts)
        if any(p.purpose == "refusal" for p in parts):
            # The agent has the notice; the customer learns the file went nowhere.
            self._feedback.failed(
                message,
                Failure.of(
                    FailureReason.ATTACHMENT_REJECTED,
                    subject=_subject(message),
                    detail="refused by the file check",
                ),
            )
        else:
            self._feedback.delivered(message, file_reached=file_reached)
        logger.info(
            "message %s (%s) delivered to contact %s",
            mask(message.wamid),
            message.type.value,
            session.contact_id,
        )
        return message_outcome(message, "delivered", contact_id=session.contact_id)

    def _later(self) -> float:
        """When to look again at work another worker holds: well within its lease."""
        return max(1.0, self._lease / 4)

    def _unanswerable(self, message: InboundMessage) -> Outcome:
        """A message to a number the bridge cannot answer from: refused before any claim.

        Opening a chat would leave an agent talking into the void; not claiming lets the
        redelivery that follows a fix of the settings go through.
        """
        number = message.business.meta_phone_number_id
        reason = f"business number {number} is not configured (WACONNECT_EUM_PHONE_NUMBERS)"
        logger.error("message %s not taken: %s", mask(message.wamid), reason)
        return message_outcome(message, "failed", reason=reason)

    def report_failure(
        self, message: InboundMessage, error: DeliveryError, *, session: ChatSession | None = None
    ) -> Outcome:
        """Tell the customer (and the agent, when the chat is reachable) what did not arrive.

        For a message whose claim was released (after transient failures): the claim is taken
        again and kept, the failure itself being the message's one outcome. If another worker
        took it meanwhile, that worker owns the message: nobody is told anything here.
        """
        claim = _claim_key(message.wamid)
        if self._ledger.lease(claim, seconds=self._lease) != "taken":
            logger.info("message %s taken by another worker; no failure told", mask(message.wamid))
            return message_outcome(message, "duplicate", reason="handled elsewhere")
        outcome = self._report(message, error, session=session)
        self._ledger.finish(claim)
        return outcome

    def _tell_queued(self, message: InboundMessage, key: SessionKey) -> None:
        """Tell the customer once per wait for a chat: the chat they wait for names the claim,
        so the messages they send meanwhile, and the retries, say nothing more."""
        if not self._feedback.tells_queued:
            return
        previous = self._sessions.get(key)
        waiting_for = previous.generation + 1 if previous is not None else 1
        if self._ledger.claim(f"queued:{key}:{waiting_for}"):
            self._feedback.queued(message)

    def _report(
        self, message: InboundMessage, error: DeliveryError, *, session: ChatSession | None
    ) -> Outcome:
        """``report_failure`` for a message whose claim this worker holds."""
        failure = failure_from_error(error, subject=_subject(message), direction=Direction.TO_AGENT)
        logger.warning(
            "message %s (%s) not delivered: %s",
            mask(message.wamid),
            message.type.value,
            failure.reason.value,
        )
        self._feedback.failed(message, failure)
        if session is None:
            key = session_key(self._sessions, message.business, message.customer)
            session = self._chats.current(key)
        # The file failed, not what the customer wrote with it: the caption follows.
        caption = [render_for_agent(message)] if message.media is not None else []
        self._chats.tell_failure(session, failure, source=message.wamid, follow=caption)
        return message_outcome(
            message,
            "failed",
            reason=failure.reason.value,
            contact_id=session.contact_id if session is not None else "",
            failure=failure,
        )

    def handle_statuses(self, statuses: Iterable[StatusUpdate]) -> list[Outcome]:
        """A ``failed`` status of an agent's message becomes a notice in the agent's chat; the
        rest are logged."""
        return [self._statuses.handle(status) for status in statuses]

    # ---- preparing the parts ------------------------------------------------------------------

    def _prepare(self, message: InboundMessage, key: SessionKey) -> list[Part]:
        quoted = self._quoted(message, key)
        if message.media is None:
            return self._texts("text", render_for_agent(message, quoted=quoted))
        parts = self._files.get().parts(message, message.media)
        parts += self._texts("caption", render_for_agent(message, quoted=quoted))
        return parts

    def _quoted(self, message: InboundMessage, key: SessionKey) -> str | None:
        """The snippet of the message this one replies or reacts to, when it is remembered."""
        wamid = quoted_wamid(message)
        if not wamid:
            return None
        entry = self._log.recall(wamid)
        # A wamid is unique, but a quote must never show one customer another's words.
        if entry is None or entry.key != key:
            return None
        return entry.snippet or None

    def _remember(self, session: ChatSession, message: InboundMessage, parts: list[Part]) -> None:
        if not worth_remembering(message):
            return
        file_name = next((p.name for p in parts if p.media is not None), "")
        revision = message.revision
        if revision is not None and revision.new is not None:
            self._remember_edit(session, revision.original_message_id, revision.new, file_name)
        text = customer_snippet(message, file_name=file_name)
        self._memory.remember(wamid=message.wamid, key=session.key, author="customer", text=text)

    def _remember_edit(
        self, session: ChatSession, original: str, new: InboundMessage, file_name: str
    ) -> None:
        """The edited message now reads otherwise: a later reply or reaction quotes its new
        words (the edit's own notice quoted the old ones, recalled before this). An entry of
        another customer's is left alone: nobody may put words in it."""
        try:
            entry = self._log.recall(original)
        except DeliveryError as exc:
            logger.warning("edit of %s not remembered: %s", mask(original), exc)
            return
        if entry is not None and entry.key != session.key:
            return
        text = customer_snippet(new, file_name=file_name)
        self._memory.remember(wamid=original, key=session.key, author="customer", text=text)

    def _texts(self, purpose: str, text: str) -> list[Part]:
        """``text`` as parts Connect takes, split at the configured length."""
        return text_parts(purpose, text, self._connect_text_limit)

    def _transcribe(
        self, session: ChatSession, message: InboundMessage, recording: tuple[StoredMedia, ...]
    ) -> None:
        """The transcript after the recording, as parts of the same message."""
        transcripts = self._transcripts
        if transcripts is None:
            return

        def send(texts: list[str]) -> None:
            parts = [Part(purpose="transcript", index=i, text=t) for i, t in enumerate(texts)]
            self._send_parts(session, message, parts)

        transcripts.follow(message, recording, send, session=session)

    # ---- sending -----------------------------------------------------------------------------

    def _send_parts(
        self,
        session: ChatSession,
        message: InboundMessage,
        parts: list[Part],
        *,
        finish_with: tuple[str, ...] = (),
    ) -> ChatSession:
        def send_all(current: ChatSession) -> None:
            self._delivery.to_chat(current, message.wamid, parts, finish_with=finish_with)

        _, session = self._chats.deliver(session, message, send_all)
        return session


def _inbound_files(
    ports: BridgePorts,
    *,
    limits: ConnectLimits,
    stickers: bool,
    transcribe: bool,
    connect_text_limit: int,
) -> InboundFiles:
    # Made for the first file: a process that handles texts only never loads the media code.
    from waconnect.services.inbound_files import InboundFiles  # noqa: PLC0415

    return InboundFiles(
        whatsapp=ports.whatsapp,
        media=ports.media,
        converter=ports.converter,
        limits=limits,
        stickers=stickers,
        transcribe=transcribe,
        connect_text_limit=connect_text_limit,
    )


def _claim_key(wamid: str) -> str:
    return f"whatsapp:{wamid}"


def _customer_key(key: SessionKey) -> str:
    return f"customer:{key}"


def _subject(message: InboundMessage) -> str:
    if message.revision is not None and message.revision.new is not None:
        return _subject(message.revision.new)  # an edit is about the message as it now is
    if message.media is not None and message.media.filename:
        return message.media.filename
    return message.type.value
