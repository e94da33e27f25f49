"""The bridge's entry functions: what emulators, ``replay``, Lambda handlers and the server call.

Each takes a document as it arrives (a mapping, or JSON text or bytes, in any wrapping the wire
layer knows), never raises for bad input, and returns one ``Outcome`` per message or event.
One customer's work runs one item at a time, in order; different customers run concurrently.

Retries live in this one layer (botocore makes one attempt per call). A call that certainly did
not take effect is tried ``RetryPolicy.attempts`` times with short waits. When that is not enough,
or Connect's active-chat quota is full, the item is ``deferred``, nobody told, when someone keeps
it: a transport that redelivers it (SQS: ``defer=True``), or the bridge's own ``RetryStore``
while the item is younger than ``RetryPolicy.max_age`` (``run_due`` hands it in again). Else the
customer (or the agent) is told and the outcome is ``failed``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

from waconnect.domain.connect import ConnectEvent
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import Customer, InboundMessage, StatusUpdate
from waconnect.entrypoints.customer_groups import by_customer
from waconnect.entrypoints.kept_documents import (
    KeptDocuments,
    document_key,
    document_text,
    next_try,
)
from waconnect.entrypoints.keyed_lock import KeyedLock
from waconnect.entrypoints.retry_policy import RetryPolicy, retrying
from waconnect.entrypoints.transcript_entry import TranscriptEntry
from waconnect.errors import CapacityExceeded, DeliveryError, MalformedPayload, TransientError
from waconnect.log_setup import add_log_ids, log_ids
from waconnect.ports import RetryStore
from waconnect.services.inbound import InboundService
from waconnect.services.outbound import OutboundService
from waconnect.services.outcome import Outcome, message_outcome
from waconnect.services.redact import mask, mask_wamid
from waconnect.services.transcript_checks import OverdueTranscripts
from waconnect.services.transcript_events import TranscriptEvents
from waconnect.wire.inbound import classify, parse_connect_document, parse_whatsapp_document
from waconnect.wire.sns import SnsSubscriptionMessage

logger = logging.getLogger(__name__)

Document = Mapping[str, Any] | str | bytes


class Bridge:
    def __init__(
        self,
        inbound: InboundService,
        outbound: OutboundService,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        locks: KeyedLock | None = None,
        closers: Sequence[Callable[[], None]] = (),
        instance_id: str = "",
        kept: RetryStore | None = None,
        clock: Callable[[], float] = time.time,
        transcripts: TranscriptEvents | None = None,
        overdue: OverdueTranscripts | None = None,
    ) -> None:
        self.inbound = inbound
        self.outbound = outbound
        # The ends of transcription jobs, with an engine that finishes later; else None.
        self.transcripts = transcripts
        # Jobs whose end was not heard, checked by ``run_due`` (None: checked elsewhere).
        self._overdue = overdue
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._locks = locks or KeyedLock()
        self._closers = list(closers)
        # The Connect instance this bridge serves (id or ARN); empty: events are not checked.
        self._instance_id = _instance(instance_id)
        self._kept = KeptDocuments(kept, clock=clock) if kept is not None else None
        self._now = clock
        self._transcription = TranscriptEntry(
            transcripts,
            retry=self._retry,
            sleep=sleep,
            later=lambda since, defer: self._later(since, defer=defer),
            now=clock,
        )

    def close(self) -> None:
        """Release what the composition root opened for this bridge (connections, clients)."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()

    def __enter__(self) -> Bridge:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def handle_document(self, doc: Document) -> list[Outcome]:
        """Any inbound document: WhatsApp traffic or Connect streaming events, by its shape.

        With a ``RetryStore``, a document with a ``deferred`` outcome is kept for ``run_due``,
        and a customer's message waits behind their kept ones (``kept_documents``).
        """
        if self._kept is None:
            return self._handle_document(doc, kept_as=None)[0]
        text = document_text(doc)
        key = document_key(text)
        outcomes, waiting = self._handle_document(doc, kept_as=key)
        self._kept.keep_if_deferred(key, text, outcomes, waiting)
        return outcomes

    def run_due(self, now: float | None = None) -> list[Outcome]:
        """Hand in again every kept document that is due at ``now``, then check the
        transcription jobs due then (``services.transcript_checks``); the outcomes, in order.

        A document whose items all settled is dropped; one still deferred is kept for later.
        Items already delivered come back as ``duplicate``.
        """
        moment = self._now() if now is None else now
        outcomes = [] if self._kept is None else self._kept.run_due(self._hand_in, moment)
        if self._overdue is not None:
            outcomes += self._overdue.run_due(moment)
        return outcomes

    def _hand_in(self, text: str, key: str) -> tuple[list[Outcome], list[str]]:
        return self._handle_document(text, kept_as=key)

    def _handle_document(
        self, doc: Document, *, kept_as: str | None
    ) -> tuple[list[Outcome], list[str]]:
        """The outcomes, and the customers whose messages in it are deferred."""
        try:
            kind = classify(doc)
        except MalformedPayload as exc:
            return [_rejected(exc)], []
        except SnsSubscriptionMessage as exc:
            return [Outcome(kind="skipped", reason=str(exc))], []
        if kind == "whatsapp":
            return self._whatsapp_document(doc, kept_as=kept_as)
        if kind == "transcription":
            return self.handle_transcription_event(doc), []
        return self.handle_connect_document(doc), []

    def handle_transcription_event(self, doc: Document, *, defer: bool = False) -> list[Outcome]:
        """Amazon Transcribe's job state change (an EventBridge event): the transcript of the
        voice note it belongs to goes to the agent, then to the customer (services.transcript_
        events). ``defer`` as for ``handle_message``."""
        return [self._transcription.event(doc, defer=defer)]

    def check_transcription_job(self, job: str, *, defer: bool = False) -> Outcome:
        """A check of a job whose end may never be announced (the Lambda shape's delayed queue
        message): handled as its event would be once the job ended, ``deferred`` while it runs
        (``retry_after``: until its next check). ``defer`` as for ``handle_message``."""
        return self._transcription.check(job, defer=defer)

    def handle_whatsapp_document(self, doc: Document) -> list[Outcome]:
        """An EUM notification or Meta webhook body: messages first, then statuses, then what
        could not be read at all (one ``rejected`` outcome each)."""
        return self._whatsapp_document(doc, kept_as=None)[0]

    def _whatsapp_document(
        self, doc: Document, *, kept_as: str | None
    ) -> tuple[list[Outcome], list[str]]:
        """``kept_as``: the document's key in the kept documents, when it may wait there."""
        try:
            batch = parse_whatsapp_document(doc)
        except MalformedPayload as exc:
            return [_rejected(exc)], []
        except SnsSubscriptionMessage as exc:
            return [Outcome(kind="skipped", reason=str(exc))], []
        outcomes: list[Outcome] = []
        waiting: list[str] = []
        for names, messages in by_customer(batch.messages, self.inbound.known_keys):
            if kept_as and self._must_wait(names, kept_as):
                theirs = [self._behind(message) for message in messages]
            else:
                with self._locks.hold_all(names):
                    theirs = [self._inbound(message, defer=False) for message in messages]
            outcomes.extend(theirs)
            if next_try(theirs) is not None:
                waiting.extend(names)
        outcomes.extend(self.handle_statuses(batch.statuses))
        # Items left out for unreadable ids: the rest of the document went on without them.
        outcomes.extend(Outcome(kind="rejected", reason=reason) for reason in batch.unreadable)
        return outcomes, waiting

    def _must_wait(self, names: list[str], kept_as: str) -> bool:
        """Whether the customer's messages wait behind their kept documents (``kept_documents``).

        The store busy for longer than the retries: they wait, kept with the document, rather
        than risk overtaking an older message or failing the whole document.
        """
        kept = self._kept
        if kept is None:
            return False
        try:
            return retrying(
                lambda: kept.waits(names, kept_as, self._hand_in),
                waits=self._retry.waits(),
                sleep=self._sleep,
            )
        except TransientError as exc:
            logger.warning("customer's kept documents unknown, so theirs wait: %s", exc)
            return True

    def _behind(self, message: InboundMessage) -> Outcome:
        """A message that waits behind its customer's kept ones: deferred, nothing claimed."""
        logger.info("message %s waits behind the customer's earlier ones", mask(message.wamid))
        reason = "behind the customer's earlier messages"
        return message_outcome(message, "deferred", reason=reason, retry_after=self._retry.later)

    def handle_statuses(self, statuses: Iterable[StatusUpdate]) -> list[Outcome]:
        """WhatsApp statuses of messages the business sent: a failed one is told to the agent."""
        outcomes: list[Outcome] = []
        for status in statuses:
            customer = Customer(wa_id=status.recipient_id, user_id=status.recipient_user_id)
            ids = log_ids(
                wamid=mask_wamid(status.wamid),
                business_number=status.business.meta_phone_number_id,
            )
            try:
                # Under the customer's lock: an agent's send remembers its wamid before the
                # status of that send, published at once by WhatsApp, is looked up.
                with ids, self._locks.hold(str(SessionKey.of(status.business, customer))):
                    outcomes.extend(self.inbound.handle_statuses([status]))
            except Exception as exc:
                logger.exception("status of %s failed unexpectedly", mask(status.wamid))
                outcomes.append(Outcome(kind="failed", reason=_unexpected(exc), wamid=status.wamid))
        return outcomes

    def handle_connect_document(self, doc: Document) -> list[Outcome]:
        """Connect streaming events, each forwarded to its customer (or dropped with a reason)."""
        try:
            events = parse_connect_document(doc)
        except MalformedPayload as exc:
            return [_rejected(exc)]
        except SnsSubscriptionMessage as exc:
            return [Outcome(kind="skipped", reason=str(exc))]
        return [self._outbound(event, defer=False) for event in events]

    def _foreign(self, event: ConnectEvent) -> Outcome | None:
        """An ``ignored`` outcome for an event of another Connect instance, else None.

        A streaming topic carries one instance's chats; an event naming another one was
        published by someone else (or misrouted) and must never reach a customer. An event
        without an InstanceId (a bare message, outside SNS) cannot be checked.
        """
        theirs = _instance(event.instance_id)
        if not self._instance_id or not theirs or theirs == self._instance_id:
            return None
        logger.warning(
            "ignoring event %s of contact %s: Connect instance %s is not this bridge's",
            event.event_id,
            event.contact_id,
            theirs,
        )
        return Outcome(
            kind="ignored",
            reason=f"event of Connect instance {theirs}, not this bridge's {self._instance_id}",
            contact_id=event.contact_id,
        )

    def handle_message(self, message: InboundMessage, *, defer: bool = False) -> Outcome:
        """One parsed customer message. With ``defer``, a message still failing transiently
        after the retries, or waiting for room in Connect, is ``deferred`` (claim released,
        nobody told) instead of reported: the transport keeps it."""
        with self._locks.hold(str(SessionKey.of(message.business, message.customer))):
            return self._inbound(message, defer=defer)

    def handle_event(self, event: ConnectEvent, *, defer: bool = False) -> Outcome:
        """One parsed Connect event; ``defer`` as for ``handle_message``."""
        return self._outbound(event, defer=defer)

    def _inbound(self, message: InboundMessage, *, defer: bool) -> Outcome:
        ids = log_ids(
            wamid=mask_wamid(message.wamid), business_number=message.business.meta_phone_number_id
        )
        with ids:
            return self._inbound_logged(message, defer=defer)

    def _inbound_logged(self, message: InboundMessage, *, defer: bool) -> Outcome:
        try:
            return self._inbound_with_retries(message, defer=defer)
        except Exception as exc:
            # One message's bug or broken store must not cost the rest of the document; the
            # service released its claim, so a redelivery can try it again.
            logger.exception("message %s failed unexpectedly", mask(message.wamid))
            return Outcome(
                kind="failed",
                reason=_unexpected(exc),
                customer=message.customer.identity,
                wamid=message.wamid,
            )

    def _inbound_with_retries(self, message: InboundMessage, *, defer: bool) -> Outcome:
        try:
            return retrying(
                lambda: self.inbound.handle_message(message),
                waits=self._retry.waits(),
                sleep=self._sleep,
            )
        except (CapacityExceeded, TransientError) as exc:
            return self._inbound_later(message, exc, defer=defer)

    def _inbound_later(
        self, message: InboundMessage, error: DeliveryError, *, defer: bool
    ) -> Outcome:
        """Defer a message that cannot go now when someone keeps it; else report it."""
        wait = self._later(message.timestamp, defer=defer)
        if wait is None:
            logger.warning("giving up on a message: %s", error)
            return self.inbound.report_failure(message, error)
        # The service released the claim: a redelivery starts afresh.
        logger.info("message %s deferred %.0f s: %s", mask(message.wamid), wait, error.kind.value)
        return Outcome(
            kind="deferred",
            reason=str(error),
            customer=message.customer.identity,
            wamid=message.wamid,
            retry_after=wait,
        )

    def _later(self, since: float, *, defer: bool) -> float | None:
        """Seconds until an item that happened at ``since`` is tried again; None: report it.

        A transport that keeps the item (``defer``) schedules its own retries; the bridge's
        store keeps it until it is ``max_age`` old.
        """
        age = max(0.0, self._now() - since)
        if defer:
            return self._retry.retry_after(age) or self._retry.later
        if self._kept is None:
            return None
        return self._retry.retry_after(age)

    def _outbound(self, event: ConnectEvent, *, defer: bool) -> Outcome:
        with log_ids(contact_id=event.contact_id):
            foreign = self._foreign(event)
            if foreign is not None:
                return foreign
            try:
                return self._outbound_with_retries(event, defer=defer)
            except Exception as exc:
                logger.exception("event %s failed unexpectedly", event.event_id)
                return Outcome(kind="failed", reason=_unexpected(exc), contact_id=event.contact_id)

    def _outbound_with_retries(self, event: ConnectEvent, *, defer: bool) -> Outcome:
        session = self.outbound.session_for(event)
        if session is not None:
            add_log_ids(business_number=session.business.meta_phone_number_id)
        lock_key = str(session.key) if session is not None else f"contact#{event.contact_id}"
        # An event of no known chat is not tried again here: it is deferred or failed at once.
        waits = self._retry.waits() if session is not None else []
        with self._locks.hold(lock_key):
            try:
                return retrying(
                    lambda: self.outbound.handle_agent_event(event), waits=waits, sleep=self._sleep
                )
            except TransientError as exc:
                return self._outbound_later(event, exc, session=session, defer=defer)

    def _outbound_later(
        self,
        event: ConnectEvent,
        error: TransientError,
        *,
        session: ChatSession | None,
        defer: bool,
    ) -> Outcome:
        """Defer an agent's event that cannot go now when someone keeps it; else report it."""
        wait = self._later(_event_time(event, self._now), defer=defer)
        if wait is not None:
            logger.info("event %s deferred %.0f s", event.event_id, wait)
            return Outcome(
                kind="deferred", reason=str(error), contact_id=event.contact_id, retry_after=wait
            )
        logger.warning("giving up on event %s: %s", event.event_id, error)
        if session is None:
            return Outcome(kind="failed", reason=str(error))
        return self.outbound.report_failure(event, error, session=session, subject="message")


def _instance(instance: str) -> str:
    """An instance's id, from itself or its ARN (``arn:aws:connect:...:instance/<id>``)."""
    return instance.strip().rsplit("instance/", 1)[-1].strip("/")


def _event_time(event: ConnectEvent, now: Callable[[], float]) -> float:
    """When Connect says the event happened (its AbsoluteTime), else now."""
    try:
        return datetime.fromisoformat(event.absolute_time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now()


def _unexpected(error: Exception) -> str:
    """The reason of a ``failed`` outcome for an error outside the delivery tree."""
    return f"unexpected {type(error).__name__}"


def _rejected(error: MalformedPayload) -> Outcome:
    logger.warning("rejected %s payload at %s: %s", error.source, error.path, error.reason)
    return Outcome(kind="rejected", reason=f"{error.source}: {error.path}: {error.reason}")
