"""A 12-minute voice note: playable WAV parts for the agent, in order, then its transcript.

Connect refuses attachments over 20 MB and twelve minutes of 16 kHz WAV are 23 MB, so the note
reaches the agent as two numbered parts. The offline engine reads only the first seconds
(``WACONNECT_TRANSCRIBE_MAX_SECONDS``), and its transcript says what it covers.

The note is made once per session, at 6 kbit/s with the encoder's cheapest settings (about a
second of CPU): spoken words first (espeak-ng), then a speech-like tone. The transcript is kept
to 3 seconds, as the offline engine runs near real time on synthetic sound: the replay then
costs seconds, and the step's bounded wait (two minutes) holds even on a loaded machine.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import Any

import av
import pytest

from tests.e2e.conftest import ANA
from tests.media_samples import long_voice_note

pytestmark = pytest.mark.slow

MINUTES = 12
MB = 1024 * 1024


def _spoken_pcm(folder: Path, words: str) -> bytes:
    """``words`` said by espeak-ng, as 48 kHz mono 16-bit samples."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: scripts/setup.sh installs it")
    spoken = folder / "spoken.wav"
    subprocess.run(
        [espeak, "-s", "140", "-v", "en-us", "-w", str(spoken), words], check=True, timeout=60
    )
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48_000)
    pcm = bytearray()
    with av.open(str(spoken)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                pcm += bytes(out.planes[0])[: out.samples * 2]
    for out in resampler.resample(None):
        pcm += bytes(out.planes[0])[: out.samples * 2]
    return bytes(pcm)


@pytest.fixture(scope="session")
def twelve_minute_note(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("long-note")
    opening = _spoken_pcm(folder, "one two three four five")
    note = folder / "twelve-minutes.ogg"
    note.write_bytes(long_voice_note(MINUTES * 60, bit_rate=6_000, opening=opening))
    return note


def test_a_twelve_minute_voice_note_reaches_the_agent_as_wav_parts_then_its_transcript(
    play: Any, twelve_minute_note: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WACONNECT_TRANSCRIPTION", "pocketsphinx")
    monkeypatch.setenv("WACONNECT_TRANSCRIBE_MAX_SECONDS", "3")

    replayed = play(
        [{"action": "customer.voice", "customer": ANA, "path": str(twelve_minute_note)}],
        keep=True,
    )

    assert replayed.exit_code == 0, replayed.dump()
    agent = replayed.where(step=0, to="agent")
    assert [line["kind"] for line in agent] == ["attachment", "attachment", "message"], (
        replayed.dump()
    )
    first, second, transcript = agent
    assert first["attachment"].startswith("voice-note-")
    assert first["attachment"].endswith("-1of2.wav")
    assert second["attachment"] == first["attachment"].replace("-1of2.wav", "-2of2.wav")
    seconds = 0.0
    for part in (first, second):
        assert part["content_type"] == "audio/wav"
        assert part["size"] <= 20 * MB
        [kept] = replayed.kept(part["attachment"])
        with wave.open(str(kept)) as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16_000, 1, 2)
            frames = wav.getnframes()
            assert frames > 0
            seconds += frames / 16_000
    assert seconds == pytest.approx(MINUTES * 60, abs=0.1)

    text = transcript["text"]
    assert text.startswith("🔊 ")
    assert text.endswith(f"\n(transcript of the first 3 s of {MINUTES}:00 min)")
    assert text.split("\n")[0].strip() != "🔊", "some words were heard"
    # The customer sees the transcript quoted under the voice note, and the 📎 of a file.
    echo = replayed.one(step=0, to="customer", kind="text")
    assert echo["text"] == text
    assert echo["reply_to"] == replayed.one(step=0, to="customer", kind="read")["reply_to"]
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "📎"
