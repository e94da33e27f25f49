"""Voice notes to 16 kHz mono 16-bit WAV, decoded and resampled inside libavfilter, in parts.

The graph ``amovie → aformat → abuffersink`` reads, decodes and resamples in FFmpeg's C code; the
Python loop only pulls ten-second frames and hands them to the WAV muxer, so a long note costs
about what the ``ffmpeg`` command line costs. ``aformat`` with these arguments is the graph PyAV's
own ``AudioResampler`` builds, so the samples are the ones a frame-by-frame conversion gives.

A file whose packets fail to decode is converted again frame by frame, skipping the damaged
packets (``tolerant``), so the agent gets as much of it as can be heard.

Long notes are cut into WAV files of at most ``max_part_bytes`` each (Connect refuses larger
attachments); the parts are of equal length where the container announces the duration.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waconnect.errors import PermanentError

if TYPE_CHECKING:
    import av

logger = logging.getLogger(__name__)

RATE = 16_000
HEADER_BYTES = 44  # the plain WAV header bitexact writes
BYTES_PER_SECOND = RATE * 2
_PULL_SAMPLES = RATE * 10
# Characters that would end or escape an argument of a filter graph description.
_UNSAFE_IN_FILTER_ARGS = frozenset(":\\'[],;=")


@dataclass(frozen=True, slots=True, kw_only=True)
class WavResult:
    """The WAV parts written, the seconds they hold, and what of the source did not make it."""

    parts: tuple[Path, ...]
    seconds: float
    announced_seconds: float  # what the container claims (0 when it does not say)
    stopped_at_limit: bool  # the source lasted longer than the bridge converts
    damaged: bool  # some of the source could not be decoded


def announced_seconds(source: Path) -> float:
    """How long the first audio stream lasts, by the container's word; 0.0 when unknown.

    Reading it costs the container's headers (and for Ogg a look at its last page), not a decode:
    a file claiming three hours is refused before any of it is converted.
    """
    import av  # noqa: PLC0415 - PyAV loads FFmpeg: only conversions pay for it
    import av.error  # noqa: PLC0415

    try:
        with av.open(str(source), "r") as container:
            if not container.streams.audio:
                raise PermanentError("the file has no audio stream", operation="convert")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except (av.error.FFmpegError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PermanentError(f"not a readable audio file ({reason})", operation="convert") from exc
    return 0.0


def to_wav_parts(
    source: Path,
    workdir: Path,
    *,
    max_part_bytes: int,
    max_seconds: float,
    what: str,
) -> WavResult:
    """Convert ``source`` into WAV parts in ``workdir``; at most ``max_seconds`` of it."""
    import av.error  # noqa: PLC0415

    announced = announced_seconds(source)
    part_samples = _part_samples(announced, max_seconds, max_part_bytes)
    max_samples = round(max_seconds * RATE)
    try:
        frames = _graph_frames(source) if _filter_safe(source) else None
        if frames is not None:
            written, parts = _write_parts(frames, workdir, part_samples, max_samples)
            damaged = False
        else:
            raise _NeedsTolerance
    except (av.error.FFmpegError, ValueError, _NeedsTolerance) as exc:
        if not isinstance(exc, _NeedsTolerance):
            logger.info("%s: decoding again packet by packet: %s", what, exc)
        counter = _Counter()
        written, parts = _write_parts(
            _tolerant_frames(source, counter), workdir, part_samples, max_samples
        )
        damaged = counter.bad_packets > 0
    if written == 0:
        raise PermanentError("no audio could be decoded", operation="convert")
    seconds = written / RATE
    stopped = written >= max_samples
    if announced and seconds < announced - 1.0 and not stopped:
        damaged = True
    return WavResult(
        parts=tuple(parts),
        seconds=seconds,
        announced_seconds=announced,
        stopped_at_limit=stopped,
        damaged=damaged,
    )


def _part_samples(announced: float, max_seconds: float, max_part_bytes: int) -> int:
    """Samples per part: equal parts when the length is known, each under the size limit."""
    most = (max_part_bytes - HEADER_BYTES) // 2
    if most <= 0:
        raise PermanentError(
            "the attachment size limit is too small for audio", operation="convert"
        )
    expected = round(min(announced, max_seconds) * RATE)
    count = math.ceil(expected / most)
    if count <= 1:
        # One file when the container says it fits (or says nothing: ADTS and MP3 often
        # guess): a wrong guess must not split a short note.
        return most
    # A little over an equal share: a container that undersells its length by a few samples
    # must not leave a sliver of a last part.
    return min(most, math.ceil(expected / count * 1.01))


class _NeedsTolerance(Exception):
    """The fast path cannot read this file; convert it packet by packet."""


@dataclass
class _Counter:
    bad_packets: int = 0


def _filter_safe(path: Path) -> bool:
    return not any(char in _UNSAFE_IN_FILTER_ARGS for char in str(path))


def _graph_frames(source: Path) -> Iterator[av.AudioFrame]:
    import av  # noqa: PLC0415
    import av.filter  # noqa: PLC0415

    graph = av.filter.Graph()
    movie = graph.add("amovie", filename=str(source))
    shape = graph.add("aformat", sample_rates=str(RATE), sample_fmts="s16", channel_layouts="mono")
    sink = graph.add("abuffersink")
    movie.link_to(shape)
    shape.link_to(sink)
    graph.configure()
    graph.set_audio_frame_size(_PULL_SAMPLES)

    def pull() -> Iterator[av.AudioFrame]:
        while True:
            try:
                frame = graph.pull()
            except (EOFError, BlockingIOError):
                return
            if isinstance(frame, av.AudioFrame):
                yield frame

    return pull()


def _tolerant_frames(source: Path, counter: _Counter) -> Iterator[av.AudioFrame]:
    """Decode packet by packet, skipping the packets that fail, resampled like the graph."""
    import av  # noqa: PLC0415
    import av.error  # noqa: PLC0415

    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    with av.open(str(source), "r") as container:
        stream = container.streams.audio[0]
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.FFmpegError, ValueError):
                # One damaged packet in a long recording should not cost the agent the rest.
                counter.bad_packets += 1
                continue
            for frame in decoded:
                yield from resampler.resample(frame)
        yield from resampler.resample(None)


def _write_parts(
    frames: Iterator[av.AudioFrame], workdir: Path, part_samples: int, max_samples: int
) -> tuple[int, list[Path]]:
    """Mux ``frames`` into WAV files of ``part_samples`` samples; stop after ``max_samples``."""
    parts: list[Path] = []
    written = 0
    with ExitStack() as stack:
        sink: _WavSink | None = None

        def next_sink() -> _WavSink:
            path = workdir / f"part-{len(parts) + 1}.wav"
            parts.append(path)
            return stack.enter_context(_WavSink(path))

        for frame in frames:
            offset = 0
            remaining = min(frame.samples, max_samples - written)
            while remaining > 0:
                if sink is None or sink.samples >= part_samples:
                    if sink is not None:
                        sink.close()
                    sink = next_sink()
                take = min(remaining, part_samples - sink.samples)
                sink.write(frame, offset, take)
                offset += take
                remaining -= take
                written += take
            if written >= max_samples:
                break
    return written, parts


class _WavSink:
    """One WAV file: PyAV's muxer with bitexact flags, so the header is the plain 44 bytes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.samples = 0
        self._container: av.container.OutputContainer | None = None

    def __enter__(self) -> _WavSink:
        import av  # noqa: PLC0415

        self._container = av.open(
            str(self._path), "w", format="wav", container_options={"fflags": "+bitexact"}
        )
        stream = self._container.add_stream("pcm_s16le", rate=RATE)
        if not isinstance(stream, av.AudioStream):  # pragma: no cover - pcm is audio
            raise TypeError("pcm_s16le is not an audio encoder")
        stream.layout = "mono"
        self._stream = stream
        return self

    def write(self, frame: av.AudioFrame, offset: int, count: int) -> None:
        import av  # noqa: PLC0415

        if offset or count != frame.samples:
            data = bytes(frame.planes[0])[offset * 2 : (offset + count) * 2]
            piece = av.AudioFrame(format="s16", layout="mono", samples=count)
            piece.planes[0].update(data)
            piece.sample_rate = RATE
            frame = piece
        frame.pts = self.samples
        frame.time_base = Fraction(1, RATE)
        self.samples += count
        for packet in self._stream.encode(frame):
            self._mux(packet)

    def _mux(self, packet: Any) -> None:
        if self._container is not None:
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._mux(packet)
        self._container.close()
        self._container = None

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        elif self._container is not None:
            self._container.close()
            self._container = None
