"""Conversions in-process with PyAV and Pillow: the one ``ports.Converter`` of the bridge.

PyAV carries FFmpeg's libraries in its wheel, so no ffmpeg binary or subprocess is involved. The
file is streamed from the media store into a temporary file (some containers need a seekable
input), converted into a second temporary file and streamed back into the store: memory stays
bounded whatever the length of the recording. Voice notes to WAV live in ``wav``, videos in
``video``, images in ``images``; this module keeps the outbound voice-note encoding.
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
from waconnect.media.images import sticker_to_png, to_jpeg
from waconnect.media.naming import extension_for, file_name_for
from waconnect.media.policy import OGG_OPUS, WAV16K, Target
from waconnect.media.video import to_mp4
from waconnect.media.wav import WavResult, to_wav_parts
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

_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "mp4": "video/mp4"}
TARGETS = frozenset({*_ENCODINGS, *_CONTENT_TYPES})


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversionLimits:
    """How much of a file the converter produces: sizes per file and seconds of audio."""

    # Connect's default attachment limit: each WAV part stays under it.
    max_part_bytes: int = 20 * 1024 * 1024
    # An hour of speech: 115 MB of WAV in six parts. A longer claim is cut here, and said so.
    max_audio_seconds: float = 3600.0


_IMAGE_TARGETS = frozenset({"png", "jpeg"})


class PyAvConverter:
    """``ports.Converter`` over PyAV and Pillow.

    Targets: ``"wav16k"`` (in parts under the size limit), ``"ogg-opus"``, ``"png"`` (a
    sticker's first frame), ``"jpeg"`` and ``"mp4"`` (H.264 + AAC).
    """

    def __init__(
        self,
        store: MediaStore,
        *,
        workdir: Path | None = None,
        limits: ConversionLimits | None = None,
    ) -> None:
        self._store = store
        self._workdir = workdir
        self._limits = limits or ConversionLimits()

    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        """Convert ``media`` to ``target`` and store the result under ``key``.

        ``max_bytes`` bounds each file written (0: the converter's own limit). Raises
        PermanentError for an unknown target and for a file that holds nothing decodable
        (empty, corrupt, or not of the kind the target needs): retrying would fail the same way.
        A file that decodes only in part is converted as far as it goes; ``Conversion.note``
        says what is missing.
        """
        if target not in TARGETS:
            raise PermanentError(
                f"unknown conversion target {target!r}; known: {', '.join(sorted(TARGETS))}",
                operation="convert",
            )
        if media.size == 0:
            raise PermanentError("cannot convert an empty file", operation="convert")
        limit = max_bytes or self._limits.max_part_bytes
        with tempfile.TemporaryDirectory(prefix="waconnect-", dir=self._workdir) as tmp:
            workdir = Path(tmp)
            source = workdir / "source"
            self._download(media, source)
            if target == WAV16K.name:
                conversion = self._to_wav(media, source, workdir, key=key, max_bytes=limit)
            else:
                conversion = self._to_one_file(
                    media, source=source, workdir=workdir, target=target, key=key, max_bytes=limit
                )
        logger.info(
            "converted %s (%s, %d bytes) to %s: %.2f s, %d file(s), %d bytes",
            media.key,
            media.content_type,
            media.size,
            target,
            conversion.duration_seconds,
            len(conversion.files),
            sum(f.size for f in conversion.files),
        )
        return conversion

    def _to_wav(
        self, media: StoredMedia, source: Path, workdir: Path, *, key: str, max_bytes: int
    ) -> Conversion:
        result = to_wav_parts(
            source,
            workdir,
            max_part_bytes=max_bytes,
            max_seconds=self._limits.max_audio_seconds,
            what=media.key,
        )
        name = file_name_for(WAV16K.content_type, filename=media.filename, stem="audio")
        count = len(result.parts)
        stored = tuple(
            self._store.put(
                key if count == 1 else f"{key}-{index}of{count}",
                _read_chunks(path),
                content_type=WAV16K.content_type,
                filename=name if count == 1 else part_name(name, index, count),
            )
            for index, path in enumerate(result.parts, start=1)
        )
        return Conversion(
            stored=stored[0],
            parts=stored if count > 1 else (),
            duration_seconds=result.seconds,
            note=_audio_note(result),
        )

    def _to_one_file(
        self,
        media: StoredMedia,
        *,
        source: Path,
        workdir: Path,
        target: str,
        key: str,
        max_bytes: int,
    ) -> Conversion:
        encoding = _ENCODINGS.get(target)
        content_type = encoding.target.content_type if encoding else _CONTENT_TYPES[target]
        output = workdir / f"output{extension_for(content_type)}"
        caption = ""
        duration = 0.0
        if encoding is not None:
            duration = _transcode(source, output, encoding, what=media.key)
        elif target == "png":
            caption = sticker_to_png(source, output).caption
        elif target == "jpeg":
            to_jpeg(source, output, max_bytes=max_bytes)
        else:
            duration = to_mp4(source, output, max_bytes=max_bytes)
        stored = self._store.put(
            key,
            _read_chunks(output),
            content_type=content_type,
            filename=file_name_for(content_type, filename=media.filename, stem="file"),
        )
        return Conversion(stored=stored, duration_seconds=duration, caption=caption)

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


def part_name(name: str, index: int, count: int) -> str:
    """``voice-note-x.wav`` → ``voice-note-x-2of3.wav``: the parts sort and say how many."""
    dot = name.rfind(".")
    stem, extension = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    return f"{stem}-{index}of{count}{extension}"


def _audio_note(result: WavResult) -> str:
    if result.stopped_at_limit:
        return (
            f"only its first {_clock(result.seconds)} were converted (the bridge converts at "
            f"most {_clock(result.seconds)} of a recording)"
        )
    if result.damaged:
        if result.announced_seconds:
            return (
                f"the recording is damaged: {_clock(result.seconds)} of "
                f"{_clock(result.announced_seconds)} could be converted"
            )
        return f"the recording is damaged: {_clock(result.seconds)} could be converted"
    return ""


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d} min" if whole >= 60 else f"{whole} s"


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
        raise PermanentError(f"not a readable audio file ({reason})", operation="convert") from exc
    with container:
        if not container.streams.audio:
            raise PermanentError("the file has no audio stream", operation="convert")
        stream = container.streams.audio[0]
        samples = _encode_stream(container, stream, output, encoding, what=what)
    if samples == 0:
        raise PermanentError("no audio could be decoded", operation="convert")
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
