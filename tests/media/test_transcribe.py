"""The offline engine on real speech (espeak-ng), and the transcript's way to agent and customer."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fakes import InMemoryMediaStore
from waconnect.domain.media import StoredMedia
from waconnect.media.convert import PyAvConverter
from waconnect.media.transcribe import NullTranscriber, PocketsphinxTranscriber

pytest.importorskip("pocketsphinx", reason="the offline engine is the [offline] extra")
DIGITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spoken(tmp_path: Path, words: str) -> bytes:
    """``words`` said by espeak-ng, as the WAV it writes (22 kHz mono)."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: scripts/setup.sh installs it")
    path = tmp_path / "speech.wav"
    subprocess.run(
        [espeak, "-s", "140", "-v", "en-us", "-w", str(path), words], check=True, timeout=60
    )
    return path.read_bytes()


def recording(store: InMemoryMediaStore, data: bytes) -> tuple[StoredMedia, ...]:
    original = store.put("in/note", [data], content_type="audio/wav", filename="note.wav")
    converted = PyAvConverter(store).convert(original, target="wav16k", key="out/note.wav")
    return (original, *converted.files)


def test_spoken_digits_are_recognised_offline(tmp_path: Path) -> None:
    store = InMemoryMediaStore(chunk_size=8192)
    engine = PocketsphinxTranscriber(store)

    engine.start("job-1", recording(store, spoken(tmp_path, " ".join(DIGITS))), language="en-US")
    transcript = engine.result("job-1")

    assert transcript is not None
    assert (transcript.failure, transcript.note) == ("", "")
    heard = set(transcript.text.split())
    assert len(heard & set(DIGITS)) >= 3, transcript.text
    assert engine.result("job-1") is None  # handed over once


def test_each_recognised_word_comes_with_when_it_is_said_within_the_note(tmp_path: Path) -> None:
    store = InMemoryMediaStore(chunk_size=8192)
    engine = PocketsphinxTranscriber(store)
    audio = recording(store, spoken(tmp_path, " ".join(DIGITS)))
    seconds = (audio[1].size - 44) / 32_000

    engine.start("job-4", audio, language="en-US")
    transcript = engine.result("job-4")

    assert transcript is not None
    assert [w.word for w in transcript.words] == transcript.text.split()
    times = [t for w in transcript.words for t in (w.start, w.end)]
    assert times == sorted(times), transcript.words
    assert times, "the engine heard words"
    assert times[0] >= 0
    assert times[-1] <= seconds + 0.01
    assert all(w.start < w.end for w in transcript.words)


def test_a_note_longer_than_the_limit_is_transcribed_in_part_and_says_so(tmp_path: Path) -> None:
    store = InMemoryMediaStore()
    engine = PocketsphinxTranscriber(store, max_seconds=1)
    audio = recording(store, spoken(tmp_path, " ".join(DIGITS)))
    seconds = round((audio[1].size - 44) / 32_000)

    engine.start("job-2", audio, language="en-GB")
    transcript = engine.result("job-2")

    assert transcript is not None
    assert transcript.note == f"the first 1 s of {seconds} s"


def test_silence_gives_no_words_and_no_failure(tmp_path: Path) -> None:
    store = InMemoryMediaStore()
    silence = store.put(
        "out/silence.wav",
        [b"RIFF" + (36 + 32_000).to_bytes(4, "little") + b"WAVE" + bytes(32_036)],
        content_type="audio/wav",
    )
    engine = PocketsphinxTranscriber(store)
    engine.start("job-3", (silence, silence), language="en-US")
    transcript = engine.result("job-3")
    assert transcript is not None
    assert (transcript.text, transcript.failure) == ("", "")


def test_a_language_the_offline_engine_does_not_know_fails_without_words(tmp_path: Path) -> None:
    store = InMemoryMediaStore()
    engine = PocketsphinxTranscriber(store)
    engine.start("job-4", recording(store, spoken(tmp_path, "one")), language="pt-PT")
    transcript = engine.result("job-4")
    assert transcript is not None
    assert (transcript.text, transcript.failure) == (
        "",
        "the offline engine knows English only, not pt-PT",
    )


def test_none_transcribes_nothing() -> None:
    engine = NullTranscriber()
    engine.start("job-5", (), language="en-US")
    transcript = engine.result("job-5")
    assert transcript is not None
    assert (transcript.text, transcript.failure) == ("", "transcription is off")
