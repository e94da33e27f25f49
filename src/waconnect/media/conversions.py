"""Conversions of a file on disk into files on disk, in-process with PyAV and Pillow.

PyAV carries FFmpeg's libraries in its wheel, so no ffmpeg binary or subprocess is involved.
Voice notes to WAV (in parts) live in ``wav``, videos in ``video``, images in ``images``; this
module picks one for a target and keeps the outbound voice-note encoding. The bridge's converter
(``convert.PyAvConverter``) streams a stored file into a temporary folder and stores what
``convert_file`` wrote; ``waconnect media convert`` runs it on the operator's file. Nothing
here loads a store, the ports or, before a conversion runs, PyAV and Pillow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.errors import PermanentError
from waconnect.media.images import sticker_to_png, to_jpeg
from waconnect.media.naming import extension_for
from waconnect.media.policy import OGG_OPUS, WAV16K, Target
from waconnect.media.video import to_mp4
from waconnect.media.wav import WavResult, to_wav_parts

if TYPE_CHECKING:
    import av

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class FileConversion:
    """What ``convert_file`` wrote: its files in order (WAV parts), their type, what to say."""

    paths: tuple[Path, ...]
    content_type: str
    duration_seconds: float = 0.0
    note: str = ""  # what of the source is missing (a damaged or overlong recording)
    caption: str = ""  # the words a file carries (a sticker's emoji)


def check_target(target: str) -> None:
    """PermanentError unless ``target`` is one the converter writes."""
    if target not in TARGETS:
        raise PermanentError(
            f"unknown conversion target {target!r}; known: {', '.join(sorted(TARGETS))}",
            operation="convert",
        )


def convert_file(
    source: Path, workdir: Path, *, target: str, max_bytes: int, limits: ConversionLimits, what: str
) -> FileConversion:
    """Convert ``source`` to ``target``, writing into ``workdir``; each file within ``max_bytes``.

    Raises PermanentError for an unknown target and for a file that holds nothing decodable
    (empty, corrupt, or not of the kind the target needs): retrying would fail the same way. A
    file that decodes only in part is converted as far as it goes, and ``note`` says what is
    missing. ``what`` names the file in log lines.
    """
    check_target(target)
    if source.stat().st_size == 0:
        raise PermanentError("cannot convert an empty file", operation="convert")
    if target == WAV16K.name:
        result = to_wav_parts(
            source,
            workdir,
            max_part_bytes=max_bytes,
            max_seconds=limits.max_audio_seconds,
            what=what,
        )
        return FileConversion(
            paths=result.parts,
            content_type=WAV16K.content_type,
            duration_seconds=result.seconds,
            note=_audio_note(result),
        )
    encoding = _ENCODINGS.get(target)
    content_type = encoding.target.content_type if encoding else _CONTENT_TYPES[target]
    output = workdir / f"output{extension_for(content_type)}"
    caption = ""
    duration = 0.0
    if encoding is not None:
        duration = _transcode(source, output, encoding, what=what)
    elif target == "png":
        caption = sticker_to_png(source, output).caption
    elif target == "jpeg":
        to_jpeg(source, output, max_bytes=max_bytes)
    else:
        duration = to_mp4(source, output, max_bytes=max_bytes)
    return FileConversion(
        paths=(output,), content_type=content_type, duration_seconds=duration, caption=caption
    )


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
