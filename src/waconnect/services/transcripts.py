"""A voice note's transcript, after its recording: "🔊 …" to the agent, quoted to the customer.

The recording reaches the agent first; the transcript follows as text, split at Connect's limit
(never cut short), and is echoed to the customer as a reply quoting the voice note unless that is
turned off. A transcript that failed or holds no words is logged and nothing more: the agent
has the recording, and a notice about a missing transcript would only be noise.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import OutgoingText
from waconnect.domain.text import CONNECT_TEXT_LIMIT, WHATSAPP_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import InboundMessage
from waconnect.errors import DeliveryError
from waconnect.ports import Ledger, Transcriber, Transcript, WhatsApp
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


class VoiceTranscripts:
    def __init__(
        self,
        transcriber: Transcriber,
        *,
        whatsapp: WhatsApp,
        ledger: Ledger,
        settings: TranscriptSettings | None = None,
    ) -> None:
        self._transcriber = transcriber
        self._whatsapp = whatsapp
        self._ledger = ledger
        self._settings = settings or TranscriptSettings()

    def follow(
        self,
        message: InboundMessage,
        recording: Sequence[StoredMedia],
        send_to_agent: Callable[[list[str]], None],
    ) -> None:
        """Transcribe ``recording`` and send the words with ``send_to_agent``, then echo them."""
        job = job_name(message.wamid)
        language = self._settings.language_for(message.business.meta_phone_number_id)
        try:
            self._transcriber.start(job, recording, language=language)
            transcript = self._transcriber.result(job)
        except DeliveryError as exc:
            logger.warning("transcription of %s failed: %s", mask(message.wamid), exc)
            return
        if transcript is None:
            logger.info("transcript of %s not ready yet", mask(message.wamid))
            return
        if transcript.failure or not transcript.text.strip():
            logger.info(
                "no transcript for %s: %s",
                mask(message.wamid),
                transcript.failure or "no words recognised",
            )
            return
        text = transcript_text(transcript)
        try:
            send_to_agent(split_text(text, CONNECT_TEXT_LIMIT))
        except DeliveryError as exc:
            logger.warning("transcript of %s not sent to the agent: %s", mask(message.wamid), exc)
            return
        if self._settings.echo_to_customer:
            self._echo(message, text)

    def _echo(self, message: InboundMessage, text: str) -> None:
        # WhatsApp sends carry no idempotency token: a claim makes a retry skip the echo.
        if not self._ledger.claim(f"transcript-echo:{message.wamid}"):
            return
        try:
            for part in split_text(text, WHATSAPP_TEXT_LIMIT):
                self._whatsapp.send(
                    message.business,
                    OutgoingText(to=message.customer, text=part, reply_to=message.wamid),
                )
        except DeliveryError as exc:
            logger.warning("transcript echo to %s not sent: %s", mask(message.wamid), exc)
