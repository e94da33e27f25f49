"""Transcription engines behind ``ports.Transcriber``.

Engines take a stored 16 kHz mono WAV (what the inbound policy makes of every voice note) and a
language code, and return the text spoken, or ``""`` when nothing was recognised. Amazon
Transcribe and an offline engine come later; ``NullTranscriber`` turns transcripts off.
"""

from __future__ import annotations

from waconnect.domain.media import StoredMedia


class NullTranscriber:
    """Recognises nothing: for deployments that want the recording without a transcript."""

    def transcribe(self, wav: StoredMedia, *, language: str) -> str:
        del wav, language
        return ""
