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

A ``TransientError`` propagates, so that the transport hands the event in again.
"""

from __future__ import annotations

import logging

from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.errors import SessionEnded
from waconnect.log_setup import log_ids
from waconnect.ports import PendingTranscript, SessionStore, TranscriptJobs
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


class TranscriptEvents:
    def __init__(
        self,
        transcripts: VoiceTranscripts,
        *,
        jobs: TranscriptJobs,
        sessions: SessionStore,
        chats: ChatLifecycle,
        delivery: Delivery,
        connect_text_limit: int = CONNECT_TEXT_LIMIT,
    ) -> None:
        self._transcripts = transcripts
        self._jobs = jobs
        self._sessions = sessions
        self._chats = chats
        self._delivery = delivery
        self._limit = connect_text_limit

    def handle_job_change(self, change: TranscriptionJobChange) -> Outcome:
        """What the end of ``change.job`` comes to (see the module's table)."""
        if not change.final:
            return Outcome(kind="skipped", reason=f"transcription job {change.status}")
        pending = self._jobs.find(change.job)
        if pending is None:
            logger.info("transcription job %s is not one of this bridge's notes", change.job)
            return Outcome(kind="ignored", reason=f"no voice note waits for job {change.job}")
        ids = log_ids(
            wamid=mask_wamid(pending.wamid),
            business_number=pending.business.meta_phone_number_id,
            contact_id=pending.contact_id,
        )
        with ids:
            return self._deliver(change, pending)

    def _deliver(self, change: TranscriptionJobChange, pending: PendingTranscript) -> Outcome:
        transcript = self._transcripts.transcriber.result(change.job)
        if transcript is None:
            logger.info("transcription job %s not readable yet", change.job)
            return _outcome(
                pending, "deferred", reason="job not finished", retry=EARLY_EVENT_RETRY_SECONDS
            )
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
