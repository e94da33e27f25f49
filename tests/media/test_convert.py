"""Real PyAV conversions: voice notes to 16 kHz WAV for Connect, WAV to OGG/Opus voice notes."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import av
import pytest

from tests import media_samples as samples
from tests.fakes import InMemoryMediaStore
from waconnect.errors import PermanentError
from waconnect.media.convert import PyAvConverter
from waconnect.media.sniff import OGG_OPUS, sniff


def decoded(data: bytes) -> tuple[str, int, int, float]:
    """(codec, channels, sample rate, seconds) of the first audio stream, by decoding it all."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples_seen = sum(frame.samples for frame in container.decode(stream))
        context = stream.codec_context
        return context.name, context.channels, context.sample_rate, samples_seen / context.rate


@pytest.fixture
def store() -> InMemoryMediaStore:
    # Small chunks prove the converter streams the source instead of asking for it whole.
    return InMemoryMediaStore(chunk_size=4096)


def test_a_voice_note_becomes_a_plain_pcm_16k_mono_16bit_wav(store: InMemoryMediaStore) -> None:
    source = store.put(
        "in/voice", [samples.audio_file("ogg-opus", 4.0)], content_type=OGG_OPUS, filename=""
    )
    conversion = PyAvConverter(store).convert(source, target="wav16k", key="out/voice")
    wav = store.data("out/voice")
    riff, riff_size, wave, fmt, fmt_size = struct.unpack_from("<4sI4s4sI", wav, 0)
    audio_format, channels, rate, byte_rate, block_align, bits = struct.unpack_from(
        "<HHIIHH", wav, 20
    )
    data_tag, data_size = struct.unpack_from("<4sI", wav, 36)
    assert (riff, wave, fmt, fmt_size, data_tag) == (b"RIFF", b"WAVE", b"fmt ", 16, b"data")
    assert (audio_format, channels, rate, bits) == (1, 1, 16_000, 16)
    assert (byte_rate, block_align) == (32_000, 2)
    assert riff_size == len(wav) - 8
    assert data_size == len(wav) - 44
    assert conversion.stored == store.objects["out/voice"][1]
    assert conversion.stored.content_type == "audio/wav"
    assert conversion.stored.sha256 == hashlib.sha256(wav).hexdigest()
    assert conversion.duration_seconds == pytest.approx(data_size / 32_000)


@pytest.mark.parametrize(
    "kind", ["ogg-opus", "ogg-opus-stereo", "amr", "aac", "m4a", "mp3", "wav", "flac"]
)
def test_converted_wav_lasts_as_long_as_the_source_within_one_percent(
    store: InMemoryMediaStore, kind: str
) -> None:
    data = samples.audio_file(kind, 3.0)
    source = store.put("in/clip", [data], content_type="audio/x-test", filename="clip.src")
    PyAvConverter(store).convert(source, target="wav16k", key="out/clip")
    _, _, _, source_seconds = decoded(data)
    codec, channels, rate, seconds = decoded(store.data("out/clip"))
    assert (codec, channels, rate) == ("pcm_s16le", 1, 16_000)
    assert seconds == pytest.approx(source_seconds, rel=0.01)
    assert store.objects["out/clip"][1].filename == "clip.wav"


def test_the_sound_track_of_a_video_becomes_a_wav(store: InMemoryMediaStore) -> None:
    data = samples.video_file("3gp", seconds=2.0)
    source = store.put("in/video", [data], content_type="video/3gpp", filename="clip.3gp")
    conversion = PyAvConverter(store).convert(source, target="wav16k", key="out/video")
    assert conversion.duration_seconds == pytest.approx(decoded(data)[3], rel=0.01)


def test_an_agent_wav_becomes_a_mono_ogg_opus_voice_note_of_the_same_length(
    store: InMemoryMediaStore,
) -> None:
    data = samples.audio_file("wav", 3.0)  # 44.1 kHz stereo, as a desktop records it
    source = store.put("in/reply", [data], content_type="audio/wav", filename="reply.wav")
    conversion = PyAvConverter(store).convert(source, target="ogg-opus", key="out/reply")
    ogg = store.data("out/reply")
    assert sniff(ogg[:512]) == OGG_OPUS
    codec, channels, rate, seconds = decoded(ogg)
    assert (codec, channels, rate) == ("opus", 1, 48_000)
    assert seconds == pytest.approx(decoded(data)[3], rel=0.01)
    assert conversion.duration_seconds == pytest.approx(seconds, rel=0.01)
    assert (conversion.stored.content_type, conversion.stored.filename) == (
        "audio/ogg",
        "reply.ogg",
    )
    # A voice note at speech bit rates is far smaller than the PCM it came from.
    assert len(ogg) < len(data) // 10


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(bytes(range(256)) * 64, "not a readable audio file", id="random-bytes"),
        pytest.param(samples.pdf_file(), "not a readable audio file", id="pdf-declared-as-audio"),
        pytest.param(samples.image_file("png"), "no audio stream", id="image-declared-as-audio"),
        pytest.param(
            samples.video_file("mp4", with_audio=False), "no audio stream", id="silent-video"
        ),
        pytest.param(
            samples.audio_file("ogg-opus", 1.0)[:120], "not a readable audio file", id="truncated"
        ),
    ],
)
def test_corrupt_or_disguised_files_raise_a_permanent_error(
    store: InMemoryMediaStore, data: bytes, message: str, tmp_path: Path
) -> None:
    source = store.put("in/bad", [data], content_type="audio/ogg", filename="voice.ogg")
    with pytest.raises(PermanentError, match=message):
        PyAvConverter(store, workdir=tmp_path).convert(source, target="wav16k", key="out/bad")
    assert "out/bad" not in store.objects
    assert list(tmp_path.iterdir()) == []


def test_an_ogg_whose_audio_packets_are_garbage_raises_a_permanent_error(
    store: InMemoryMediaStore,
) -> None:
    good = samples.audio_file("ogg-opus", 2.0)
    # Keep the two header pages (OpusHead, OpusTags), then scramble every audio byte.
    second_page = good.index(b"OggS", 4)
    third_page = good.index(b"OggS", second_page + 4)
    scrambled = good[:third_page] + bytes(b ^ 0x5A for b in good[third_page:])
    source = store.put("in/garbled", [scrambled], content_type="audio/ogg", filename="")
    with pytest.raises(PermanentError):
        PyAvConverter(store).convert(source, target="wav16k", key="out/garbled")


def test_an_empty_file_raises_a_permanent_error(store: InMemoryMediaStore) -> None:
    source = store.put("in/empty", [b""], content_type="audio/ogg", filename="")
    with pytest.raises(PermanentError, match="empty"):
        PyAvConverter(store).convert(source, target="wav16k", key="out/empty")


def test_an_unknown_target_raises_a_permanent_error_naming_the_known_ones(
    store: InMemoryMediaStore,
) -> None:
    source = store.put("in/x", [samples.audio_file("wav16k", 1.0)], content_type="audio/wav")
    with pytest.raises(PermanentError, match="jpeg, mp4, ogg-opus, png, wav16k"):
        PyAvConverter(store).convert(source, target="flac", key="out/x")


def test_temporary_files_are_removed_after_a_conversion(
    store: InMemoryMediaStore, tmp_path: Path
) -> None:
    source = store.put("in/v", [samples.audio_file("amr", 1.0)], content_type="audio/amr")
    PyAvConverter(store, workdir=tmp_path).convert(source, target="wav16k", key="out/v")
    assert list(tmp_path.iterdir()) == []
    assert store.data("out/v").startswith(b"RIFF")


def test_the_tour_voice_note_reaches_the_agent_as_a_wav_of_at_least_three_seconds(
    store: InMemoryMediaStore,
) -> None:
    data = (Path(__file__).resolve().parents[2] / "examples/media/voice-note.ogg").read_bytes()
    source = store.put("in/tour", [data], content_type="audio/ogg", filename="")
    conversion = PyAvConverter(store).convert(source, target="wav16k", key="out/tour")
    assert conversion.duration_seconds >= 3.0
    assert conversion.duration_seconds == pytest.approx(decoded(data)[3], rel=0.01)
