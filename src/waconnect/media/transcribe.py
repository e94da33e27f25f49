"""Transcription engines behind ``ports.Transcriber``: offline (pocketsphinx) and none.

pocketsphinx carries its English model in its wheel and runs without a network, at about a third
of real time on a small machine; it reads the first ``max_seconds`` of a note (the WAV parts,
in order) and says so when the note is longer. It is an optional extra (``waconnect[offline]``):
the module loads it only when a job starts. Amazon Transcribe lives with the AWS adapters.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from waconnect.domain.media import StoredMedia
from waconnect.media.naming import canonical_type
from waconnect.media.wav import BYTES_PER_SECOND, HEADER_BYTES, RATE
from waconnect.ports import MediaStore, TimedWord, Transcript

logger = logging.getLogger(__name__)

DEFAULT_MAX_SECONDS = 120
_FEED_BYTES = BYTES_PER_SECOND * 5  # five seconds of samples per call into the decoder


class NullTranscriber:
    """Recognises nothing: for deployments that want the recording without a transcript."""

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        del job, recording, language

    def result(self, job: str) -> Transcript | None:
        del job
        return Transcript(failure="transcription is off")


class PocketsphinxTranscriber:
    """``ports.Transcriber`` offline, in English, over the note's 16 kHz WAV parts.

    A job runs to its end inside ``start`` (the engine has no service to wait on); ``result``
    hands the transcript over once and forgets it.
    """

    def __init__(self, store: MediaStore, *, max_seconds: float = DEFAULT_MAX_SECONDS) -> None:
        self._store = store
        self._max_seconds = max_seconds
        self._results: dict[str, Transcript] = {}
        self._lock = threading.Lock()
        self._decoder: Any = None

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        with self._lock:
            if job in self._results:
                return
            self._results[job] = self._transcribe(recording, language)

    def result(self, job: str) -> Transcript | None:
        with self._lock:
            return self._results.pop(job, None)

    def _transcribe(self, recording: Sequence[StoredMedia], language: str) -> Transcript:
        if not language.lower().startswith("en"):
            return Transcript(failure=f"the offline engine knows English only, not {language}")
        # The original comes first; what follows are the 16 kHz WAV parts this engine reads.
        parts = [m for m in recording[1:] if canonical_type(m.content_type) == "audio/wav"]
        if not parts:
            return Transcript(failure="no 16 kHz WAV of the recording to read")
        try:
            decoder = self._decoder_once()
        except ImportError:
            return Transcript(failure="pocketsphinx is not installed (waconnect[offline])")
        budget = round(self._max_seconds * BYTES_PER_SECOND)
        total = sum(max(0, part.size - HEADER_BYTES) for part in parts)
        fed = 0
        decoder.start_utt()
        for part in parts:
            fed = self._feed(decoder, part, fed, budget)
            if fed >= budget:
                break
        decoder.end_utt()
        hypothesis = decoder.hyp()
        text = hypothesis.hypstr.strip() if hypothesis is not None else ""
        words = _timed_words(decoder)
        note = ""
        if total > budget:
            note = (
                f"the first {_clock(budget / BYTES_PER_SECOND)} of "
                f"{_clock(total / BYTES_PER_SECOND)}"
            )
        return Transcript(text=text, note=note, words=words)

    def _feed(self, decoder: Any, part: StoredMedia, fed: int, budget: int) -> int:
        """Feed one WAV part's samples (after its header) until ``budget`` bytes in all."""
        skip = HEADER_BYTES
        pending = b""
        with self._store.open(part) as chunks:
            for chunk in chunks:
                dropped = min(skip, len(chunk))
                skip -= dropped
                pending += chunk[dropped:][: max(0, budget - fed - len(pending))]
                if len(pending) >= _FEED_BYTES or fed + len(pending) >= budget:
                    usable = len(pending) - len(pending) % 2
                    decoder.process_raw(pending[:usable], False, False)
                    fed += usable
                    pending = pending[usable:]
                if fed >= budget:
                    return fed
        if pending:
            usable = len(pending) - len(pending) % 2
            decoder.process_raw(pending[:usable], False, False)
            fed += usable
        return fed

    def _decoder_once(self) -> Any:
        if self._decoder is None:
            from pocketsphinx import Decoder  # noqa: PLC0415 - an optional extra, loaded on use

            # The model inside the wheel; logging off (it would print to stderr).
            self._decoder = Decoder(samprate=RATE, loglevel="FATAL")
        return self._decoder


def _timed_words(decoder: Any) -> tuple[TimedWord, ...]:
    """The words of the last utterance with their times, from the decoder's segments (frames,
    100 a second by default): silences and noises left out, pronunciation variants ("read(2)")
    named by their word."""
    frames_per_second = float(decoder.config["frate"])
    return tuple(
        TimedWord(
            word=segment.word.split("(", 1)[0],
            start=segment.start_frame / frames_per_second,
            end=(segment.end_frame + 1) / frames_per_second,
        )
        for segment in decoder.seg()
        if not segment.word.startswith(("<", "["))
    )


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d} min" if whole >= 60 else f"{whole} s"
