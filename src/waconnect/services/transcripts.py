"""A voice note's transcript, after its recording: "🔊 …" to the agent, quoted to the customer.

The recording reaches the agent first; the transcript follows as text, split at Connect's limit
(never cut short), and is echoed to the customer as a reply quoting the voice note unless that is
turned off. A transcript that failed or holds no words is logged and nothing more: the agent
has the recording, and a notice about a missing transcript would only be noise.

An engine that finishes on its own time (Amazon Transcribe) is given ``jobs``: the job is
remembered under its name (the chat the recording reached, the customer) before it starts, and
the message is done without waiting; the job's end arrives later as an event, which
``services.transcript_events`` turns into the same "🔊 …" parts and echo. In case that event is
lost the job is also checked later: from the jobs' store (``services.transcript_checks``), or,
given ``follow_ups``, from a message posted once the job started (the Lambda shape's queue).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import OutgoingText
from waconnect.domain.session import ChatSession
from waconnect.domain.text import CONNECT_TEXT_LIMIT, WHATSAPP_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import BusinessNumber, Customer, InboundMessage
from waconnect.errors import DeliveryError
from waconnect.ports import (
    Clock,
    Ledger,
    PendingTranscript,
    Transcriber,
    Transcript,
    TranscriptFollowUps,
    TranscriptJobs,
    WhatsApp,
)
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptSettings:
    language: str = "en-US"
    # Business number (Meta phone-number id) -> language of its customers' notes.
    languages: tuple[tuple[str, str], ...] = ()
    echo_to_customer: bool = True

    def language_for(self, meta_phone_number_id: str) -> str:
        return dict(self.languages).get(meta_phone_number_id, self.language)


def job_name(wamid: str) -> str:
    """A transcription job's name: the same for every attempt at one voice note."""
    return "waconnect-" + hashlib.sha256(wamid.encode("utf-8")).hexdigest()[:40]


def transcript_text(transcript: Transcript) -> str:
    """The words as the agent reads them, with what they cover when not the whole note."""
    words = transcript.text.strip()
    note = f"\n(transcript of {transcript.note})" if transcript.note else ""
    return f"🔊 {words}{note}"


def words_of(transcript: Transcript | None, wamid: str) -> str:
    """The agent's text of a finished transcript; "" (logged) when there is nothing to send."""
    if transcript is None:
        logger.info("transcript of %s not ready yet", mask(wamid))
        return ""
    if transcript.failure or not transcript.text.strip():
        logger.info(
            "no transcript for %s: %s", mask(wamid), transcript.failure or "no words recognised"
        )
        return ""
    return transcript_text(transcript)


class VoiceTranscripts:
    def __init__(
        self,
        transcriber: Transcriber,
        *,
        whatsapp: WhatsApp,
        ledger: Ledger,
        settings: TranscriptSettings | None = None,
        jobs: TranscriptJobs | None = None,
        clock: Clock | None = None,
        follow_ups: TranscriptFollowUps | None = None,
    ) -> None:
        """``jobs``: the engine finishes later (its end comes as an event); None: at once.
        ``follow_ups``: where each started job's check is posted (None: ``jobs`` holds them)."""
        self._transcriber = transcriber
        self._whatsapp = whatsapp
        self._ledger = ledger
        self._settings = settings or TranscriptSettings()
        self._jobs = jobs
        self._clock = clock
        self._follow_ups = follow_ups

    @property
    def transcriber(self) -> Transcriber:
        return self._transcriber

    def follow(
        self,
        message: InboundMessage,
        recording: Sequence[StoredMedia],
        send_to_agent: Callable[[list[str]], None],
        *,
        session: ChatSession | None = None,
    ) -> None:
        """Transcribe ``recording`` and send the words with ``send_to_agent``, then echo them.

        With an engine that finishes later, only start the job (``session``: the chat the
        recording reached, remembered with the job): the words come with its end.
        """
        job = job_name(message.wamid)
        language = self._settings.language_for(message.business.meta_phone_number_id)
        if self._jobs is not None and session is not None:
            pending = PendingTranscript(
                job=job,
                wamid=message.wamid,
                business=message.business,
                customer=message.customer,
                contact_id=session.contact_id,
                generation=session.generation,
                started_at=self._clock.now() if self._clock is not None else message.timestamp,
            )
            self._start_later(self._jobs, pending, recording, language)
            return
        try:
            self._transcriber.start(job, recording, language=language)
            transcript = self._transcriber.result(job)
        except DeliveryError as exc:
            logger.warning("transcription of %s failed: %s", mask(message.wamid), exc)
            return
        text = words_of(transcript, message.wamid)
        if not text:
            return
        try:
            send_to_agent(split_text(text, CONNECT_TEXT_LIMIT))
        except DeliveryError as exc:
            logger.warning("transcript of %s not sent to the agent: %s", mask(message.wamid), exc)
            return
        self.echo(message.business, message.customer, message.wamid, text)

    def _start_later(
        self,
        jobs: TranscriptJobs,
        pending: PendingTranscript,
        recording: Sequence[StoredMedia],
        language: str,
    ) -> None:
        try:
            # Remembered first: the job's end may be heard before ``start`` returns.
            jobs.remember(pending)
            self._transcriber.start(pending.job, recording, language=language)
        except DeliveryError as exc:
            # The recording reached the agent; only its transcript is missing.
            logger.warning("transcription of %s not started: %s", mask(pending.wamid), exc)
            return
        logger.info("transcription job %s started for %s", pending.job, mask(pending.wamid))
        if self._follow_ups is None:
            return
        try:
            self._follow_ups.follow_up(pending.job)
        except DeliveryError as exc:
            # Only the fallback is missing: the job's event still brings the words.
            logger.warning("no check of transcription job %s: %s", pending.job, exc)

    def echo(self, business: BusinessNumber, customer: Customer, wamid: str, text: str) -> None:
        """Quote the transcript back to the customer, once, unless the echo is turned off."""
        if not self._settings.echo_to_customer:
            return
        # WhatsApp sends carry no idempotency token: a claim makes a retry skip the echo.
        if not self._ledger.claim(f"transcript-echo:{wamid}"):
            return
        try:
            for part in split_text(text, WHATSAPP_TEXT_LIMIT):
                self._whatsapp.send(business, OutgoingText(to=customer, text=part, reply_to=wamid))
        except DeliveryError as exc:
            logger.warning("transcript echo to %s not sent: %s", mask(wamid), exc)
