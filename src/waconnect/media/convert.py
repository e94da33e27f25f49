"""Audio conversions in-process with PyAV: voice notes to WAV for Connect, WAV to voice notes.

PyAV carries FFmpeg's libraries in its wheel, so no ffmpeg binary or subprocess is involved. The
file is streamed from the media store into a temporary file (some containers need a seekable
input), decoded and resampled frame by frame, encoded into a second temporary file and streamed
back into the store: memory stays bounded whatever the length of the recording.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError
from waconnect.media.naming import file_name_for
from waconnect.media.policy import OGG_OPUS, WAV16K, Target
from waconnect.ports import Conversion, MediaStore

if TYPE_CHECKING:
    import av

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class _Encoding:
    """How one target is written: container, encoder, sample rate and options."""

    target: Target
    container_format: str
    codec: str
    rate: int
    bit_rate: int = 0
    codec_options: dict[str, str] = field(default_factory=dict)
    container_options: dict[str, str] = field(default_factory=dict)


_ENCODINGS: dict[str, _Encoding] = {
    # bitexact keeps the WAV header to the plain 44 bytes every player and Transcribe reads.
    WAV16K.name: _Encoding(
        target=WAV16K,
        container_format="wav",
        codec="pcm_s16le",
        rate=16_000,
        container_options={"fflags": "+bitexact"},
    ),
    # WhatsApp plays a voice note only from OGG/Opus; mono speech needs no more than ~32 kbit/s.
    OGG_OPUS.name: _Encoding(
        target=OGG_OPUS,
        container_format="ogg",
        codec="libopus",
        rate=48_000,
        bit_rate=32_000,
        codec_options={"application": "voip"},
        # Without bitexact the Ogg muxer draws a random stream serial: same input, other bytes.
        container_options={"fflags": "+bitexact"},
    ),
}

TARGETS = frozenset(_ENCODINGS)


class PyAvConverter:
    """``ports.Converter`` over PyAV: targets ``"wav16k"`` and ``"ogg-opus"``."""

    def __init__(self, store: MediaStore, *, workdir: Path | None = None) -> None:
        self._store = store
        self._workdir = workdir

    def convert(self, media: StoredMedia, *, target: str, key: str) -> Conversion:
        """Convert ``media`` to ``target`` and store the result under ``key``.

        Raises PermanentError for an unknown target and for a file that holds no decodable
        audio (empty, corrupt, or not audio at all): retrying would fail the same way.
        """
        encoding = _ENCODINGS.get(target)
        if encoding is None:
            raise PermanentError(
                f"unknown conversion target {target!r}; known: {', '.join(sorted(TARGETS))}",
                operation="convert",
            )
        if media.size == 0:
            raise PermanentError("cannot convert an empty file", operation="convert")
        with tempfile.TemporaryDirectory(prefix="waconnect-", dir=self._workdir) as tmp:
            source = Path(tmp) / "source"
            output = Path(tmp) / f"output{encoding.target.extension}"
            self._download(media, source)
            duration = _transcode(source, output, encoding, what=media.key)
            stored = self._store.put(
                key,
                _read_chunks(output),
                content_type=encoding.target.content_type,
                filename=file_name_for(
                    encoding.target.content_type, filename=media.filename, stem="audio"
                ),
            )
        logger.info(
            "converted %s (%s, %d bytes) to %s: %.2f s, %d bytes",
            media.key,
            media.content_type,
            media.size,
            target,
            duration,
            stored.size,
        )
        return Conversion(stored=stored, duration_seconds=duration)

    def _download(self, media: StoredMedia, path: Path) -> None:
        with self._store.open(media) as chunks, path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)


def transcode_file(source: Path, output: Path, target: str) -> float:
    """Convert the audio file ``source`` into ``output`` as ``target`` (a name in TARGETS).

    Returns the seconds written; PermanentError when ``source`` holds no readable audio.
    """
    encoding = _ENCODINGS.get(target)
    if encoding is None:
        raise ValueError(f"unknown target {target!r} (known: {', '.join(sorted(TARGETS))})")
    return _transcode(source, output, encoding, what=source.name)


def _transcode(source: Path, output: Path, encoding: _Encoding, *, what: str) -> float:
    """Decode the first audio stream of ``source`` into ``output``; returns the seconds written."""
    # PyAV loads FFmpeg's libraries: only a process that converts pays for it (a Lambda function
    # that only relays text starts faster).
    import av  # noqa: PLC0415
    import av.error  # noqa: PLC0415

    try:
        container = av.open(str(source), "r")
    except (av.error.FFmpegError, ValueError) as exc:
        # Not str(exc): FFmpeg's message names the temporary file.
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PermanentError(
            f"{what}: not a readable audio file ({reason})", operation="convert"
        ) from exc
    with container:
        if not container.streams.audio:
            raise PermanentError(f"{what}: the file has no audio stream", operation="convert")
        stream = container.streams.audio[0]
        samples = _encode_stream(container, stream, output, encoding, what=what)
    if samples == 0:
        raise PermanentError(f"{what}: no audio could be decoded", operation="convert")
    return samples / encoding.rate


def _encode_stream(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    output: Path,
    encoding: _Encoding,
    *,
    what: str,
) -> int:
    import av  # noqa: PLC0415 - see _transcode
    import av.error  # noqa: PLC0415

    resampler = av.AudioResampler(format="s16", layout="mono", rate=encoding.rate)
    time_base = Fraction(1, encoding.rate)
    written = 0
    bad_packets = 0
    with av.open(
        str(output),
        "w",
        format=encoding.container_format,
        container_options=encoding.container_options,
    ) as sink:
        out_stream = sink.add_stream(
            encoding.codec, rate=encoding.rate, options=dict(encoding.codec_options)
        )
        if not isinstance(out_stream, av.AudioStream):  # pragma: no cover - table has audio only
            raise TypeError(f"{encoding.codec} is not an audio encoder")
        out_stream.layout = "mono"
        if encoding.bit_rate:
            out_stream.bit_rate = encoding.bit_rate

        def emit(frame: av.AudioFrame | None) -> None:
            nonlocal written
            for resampled in resampler.resample(frame):
                resampled.pts = written
                resampled.time_base = time_base
                written += resampled.samples
                for packet in out_stream.encode(resampled):
                    sink.mux(packet)

        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError) as exc:
                # One damaged packet in a long recording should not cost the agent the rest.
                bad_packets += 1
                logger.debug("%s: skipped an undecodable packet: %s", what, exc)
                continue
            for frame in frames:
                emit(frame)
        emit(None)
        for packet in out_stream.encode(None):
            sink.mux(packet)
    if bad_packets:
        logger.warning("%s: skipped %d undecodable packets", what, bad_packets)
    return written


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK_BYTES):
            yield chunk
