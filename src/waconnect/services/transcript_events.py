"""The end of a transcription job: its words to the agent's chat, then quoted to the customer.

An engine that finishes later (Amazon Transcribe) announces each job's end as an event. The
voice note it belongs to is found in ``TranscriptJobs`` (remembered when the job started), the
words are read from the engine, and sent as "🔊 …" parts through the delivery engine with the
same ClientTokens and ``done`` records as any part of that message: a redelivered event, or two
workers given the same one, add nothing to the chat. The echo to the customer is claimed once.

What the bridge does with each end:

| the job                                   | outcome   | the agent / the customer           |
| COMPLETED, chat still open                | delivered | "🔊 …" / the quoted echo           |
| COMPLETED with no words, or FAILED        | skipped   | nothing more than the audio (logged) |
| the chat ended, or the customer has a     | ignored   | nothing: the recording is in the   |
| newer one, before the words came          |           | chat that ended; a new chat is not |
|                                           |           | opened for a transcript alone       |
| not one this bridge started (or expired)  | ignored   | nothing                            |
| still running (an early event)            | deferred  | tried again later                  |
| handled before (a late event, a check)    | duplicate | nothing more                       |

An event can be lost, so a job whose end was not heard is also checked (``handle_job_check``,
from ``services.transcript_checks`` or the Lambda shape's delayed queue message): a finished job
is handled exactly as its event would be; a running one is ``deferred`` until its next check
(``check_delay``). Once a job's end is handled (anything but deferred) it is recorded done in the
ledger and no longer checked, so whichever of the event and the check comes second adds nothing.

A ``TransientError`` propagates, so that the transport hands the event in again.
"""

from __future__ import annotations

import logging

from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.errors import PermanentError, SessionEnded
from waconnect.log_setup import log_ids
from waconnect.ports import (
    TRANSCRIPT_CHECK_MAX_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    Clock,
    Ledger,
    PendingTranscript,
    SessionStore,
    TranscriptChecks,
    TranscriptJobs,
)
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery, text_parts
from waconnect.services.outcome import Outcome, OutcomeKind
from waconnect.services.redact import mask, mask_wamid
from waconnect.services.transcripts import VoiceTranscripts, words_of
from waconnect.wire.transcribe_event import TranscriptionJobChange

logger = logging.getLogger(__name__)

# An event that came before the job's result can be read: look again after this long.
EARLY_EVENT_RETRY_SECONDS = 10.0
CHAT_ENDED = "the chat ended before the transcript was ready"
HANDLED = "the end of this transcription job was handled before"


def done_key(job: str) -> str:
    """The ledger's record that the end of ``job`` was handled."""
    return f"transcript-job:{job}"


def check_delay(started_at: float, now: float, *, first: float = TRANSCRIPT_CHECK_SECONDS) -> float:
    """How long until a job still running is looked at again: as long as it has run so far, at
    least ``first`` and at most ``TRANSCRIPT_CHECK_MAX_SECONDS``."""
    return min(max(now - started_at, first), float(TRANSCRIPT_CHECK_MAX_SECONDS))


class TranscriptEvents:
    def __init__(
        self,
        transcripts: VoiceTranscripts,
        *,
        jobs: TranscriptJobs,
        sessions: SessionStore,
        chats: ChatLifecycle,
        delivery: Delivery,
        ledger: Ledger,
        clock: Clock,
        checks: TranscriptChecks | None = None,
        check_seconds: float = TRANSCRIPT_CHECK_SECONDS,
        connect_text_limit: int = CONNECT_TEXT_LIMIT,
    ) -> None:
        """``checks``: the jobs still to be checked here (None: the checks come from elsewhere,
        the Lambda shape's queue); ``check_seconds``: the first check's delay."""
        self._transcripts = transcripts
        self._jobs = jobs
        self._sessions = sessions
        self._chats = chats
        self._delivery = delivery
        self._ledger = ledger
        self._clock = clock
        self._checks = checks
        self._check_seconds = check_seconds
        self._limit = connect_text_limit

    def handle_job_change(self, change: TranscriptionJobChange) -> Outcome:
        """What the end of ``change.job`` comes to (see the module's table)."""
        if not change.final:
            return Outcome(kind="skipped", reason=f"transcription job {change.status}")
        return self._settle(change.job, checked=False)

    def handle_job_check(self, job: str) -> Outcome:
        """A job whose end may never be announced, looked at: the same as its event, if it has
        ended; ``deferred`` until its next check (``retry_after``) while it runs. A job that
        cannot be checked (``PermanentError``: one its engine never started, say) is given up."""
        try:
            return self._settle(job, checked=True)
        except PermanentError as exc:
            logger.warning("transcription job %s cannot be checked, given up: %s", job, exc)
            if self._checks is not None:
                self._checks.stop_checking(job)
            return Outcome(kind="skipped", reason=f"cannot be checked: {exc}")

    def _settle(self, job: str, *, checked: bool) -> Outcome:
        if self._ledger.finished([done_key(job)], consistent=True):
            logger.info("transcription job %s: %s", job, HANDLED)
            return Outcome(kind="duplicate", reason=HANDLED)
        pending = self._jobs.find(job)
        if pending is None:
            logger.info("transcription job %s is not one of this bridge's notes", job)
            # A check of a job nobody waits for any more is not news.
            kind: OutcomeKind = "skipped" if checked else "ignored"
            return Outcome(kind=kind, reason=f"no voice note waits for job {job}")
        ids = log_ids(
            wamid=mask_wamid(pending.wamid),
            business_number=pending.business.meta_phone_number_id,
            contact_id=pending.contact_id,
        )
        with ids:
            outcome = self._deliver(job, pending, checked=checked)
        if outcome.kind != "deferred":
            self._ledger.finish(done_key(job))
            if self._checks is not None:
                self._checks.stop_checking(job)
        return outcome

    def _deliver(self, job: str, pending: PendingTranscript, *, checked: bool) -> Outcome:
        transcript = self._transcripts.transcriber.result(job)
        if transcript is None:
            logger.info("transcription job %s not finished yet", job)
            retry = (
                check_delay(pending.started_at, self._clock.now(), first=self._check_seconds)
                if checked
                else EARLY_EVENT_RETRY_SECONDS
            )
            return _outcome(pending, "deferred", reason="job not finished", retry=retry)
        text = words_of(transcript, pending.wamid)
        if not text:
            return _outcome(pending, "skipped", reason="no transcript")
        session = self._chat_of(pending)
        if session is None:
            logger.info("transcript of %s not sent: %s", mask(pending.wamid), CHAT_ENDED)
            return _outcome(pending, "ignored", reason=CHAT_ENDED)
        # The same parts, purpose and tokens as an engine that finishes at once would send.
        parts = text_parts("transcript", text, self._limit)

        def send(current: ChatSession) -> None:
            self._delivery.to_chat(current, pending.wamid, parts)

        try:
            self._chats.call(session, send)
        except SessionEnded:
            self._chats.close(self._sessions.get(session.key) or session)
            logger.info("transcript of %s not sent: %s", mask(pending.wamid), CHAT_ENDED)
            return _outcome(pending, "ignored", reason=CHAT_ENDED)
        self._transcripts.echo(pending.business, pending.customer, pending.wamid, text)
        logger.info(
            "transcript of %s delivered to contact %s", mask(pending.wamid), session.contact_id
        )
        return _outcome(pending, "delivered", contact_id=session.contact_id)

    def _chat_of(self, pending: PendingTranscript) -> ChatSession | None:
        """The chat the recording reached, while it is still the customer's open chat."""
        session = self._sessions.get(SessionKey.of(pending.business, pending.customer))
        if session is None or session.ended or session.generation != pending.generation:
            return None
        return session


def _outcome(
    pending: PendingTranscript,
    kind: OutcomeKind,
    *,
    reason: str = "",
    contact_id: str = "",
    retry: float = 0.0,
) -> Outcome:
    return Outcome(
        kind=kind,
        reason=reason,
        customer=pending.customer.identity,
        wamid=pending.wamid,
        contact_id=contact_id or pending.contact_id,
        retry_after=retry,
    )
