"""Voice notes to WAV inside libavfilter: the same bytes as frame by frame, in parts, bounded."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import pytest

from tests import media_samples as samples
from tests.fakes import InMemoryMediaStore
from waconnect.media import wav
from waconnect.media.convert import ConversionLimits, PyAvConverter

MB = 1024 * 1024


def decoded_samples(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(frame.samples for frame in container.decode(audio=0))


@pytest.mark.parametrize("kind", ["ogg-opus", "ogg-opus-stereo", "amr", "aac", "m4a", "mp3"])
def test_the_filter_graph_writes_the_bytes_a_frame_by_frame_conversion_writes(
    tmp_path: Path, kind: str
) -> None:
    source = tmp_path / "source"
    source.write_bytes(samples.audio_file(kind, 4.0))
    (tmp_path / "fast").mkdir()
    (tmp_path / "slow").mkdir()
    fast = wav.to_wav_parts(
        source, tmp_path / "fast", max_part_bytes=20 * MB, max_seconds=3600, what="x"
    )
    counter = wav._Counter()
    frames = wav._tolerant_frames(source, counter)
    written, slow = wav._write_parts(frames, tmp_path / "slow", 20 * MB, 3600 * wav.RATE)
    assert counter.bad_packets == 0
    assert [p.read_bytes() for p in fast.parts] == [p.read_bytes() for p in slow]
    assert round(fast.seconds * wav.RATE) == written


def test_a_long_note_is_split_into_equal_playable_parts_under_the_limit(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.write_bytes(samples.long_voice_note(30))
    limit = 400_000  # 12.5 s of WAV: three parts of 10 s
    result = wav.to_wav_parts(source, tmp_path, max_part_bytes=limit, max_seconds=3600, what="x")
    sizes = [part.stat().st_size for part in result.parts]
    assert len(sizes) == 3
    assert all(size <= limit for size in sizes)
    assert max(sizes) - min(sizes) <= 2 * wav.BYTES_PER_SECOND
    counts = [decoded_samples(part.read_bytes()) for part in result.parts]
    assert sum(counts) == round(result.seconds * wav.RATE)
    for part in result.parts:
        data = part.read_bytes()
        assert struct.unpack_from("<4sI4s", data) == (b"RIFF", len(data) - 8, b"WAVE")
    assert not result.stopped_at_limit
    assert not result.damaged


@pytest.mark.slow
def test_a_twelve_minute_note_reaches_connect_as_two_numbered_parts() -> None:
    store = InMemoryMediaStore()
    note = store.put(
        "in/note", [samples.long_voice_note(12 * 60)], content_type="audio/ogg", filename=""
    )
    conversion = PyAvConverter(store).convert(note, target="wav16k", key="out/voice.wav")
    assert [f.filename for f in conversion.files] == ["audio-1of2.wav", "audio-2of2.wav"]
    assert all(f.size <= 20 * MB for f in conversion.files)
    assert conversion.duration_seconds == pytest.approx(720, abs=0.1)
    assert conversion.note == ""


def test_a_note_longer_than_the_bridge_converts_stops_there_and_says_so() -> None:
    store = InMemoryMediaStore()
    note = store.put("in/note", [samples.long_voice_note(8)], content_type="audio/ogg")
    converter = PyAvConverter(store, limits=ConversionLimits(max_audio_seconds=3))
    conversion = converter.convert(note, target="wav16k", key="out/voice.wav")
    assert conversion.duration_seconds == 3.0
    assert conversion.stored.size == 44 + 3 * wav.BYTES_PER_SECOND
    assert "only its first 3 s were converted" in conversion.note


def test_a_damaged_note_is_converted_as_far_as_it_decodes_and_says_so() -> None:
    store = InMemoryMediaStore()
    data = bytearray(samples.audio_file("mp3", 6.0))
    for index in range(len(data) // 3, len(data) // 3 + 3000):
        data[index] = (data[index] * 7 + 3) % 256
    note = store.put("in/note", [bytes(data)], content_type="audio/mpeg")
    conversion = PyAvConverter(store).convert(note, target="wav16k", key="out/voice.wav")
    assert 1 < conversion.duration_seconds <= 6.1
    assert conversion.note.startswith("the recording is damaged:")
    assert "could be converted" in conversion.note
