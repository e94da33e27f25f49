"""Videos to MP4 (H.264 + AAC, moov atom first) that WhatsApp plays and Connect accepts.

iPhones record .mov (often HEVC), older Android phones .3gp (MPEG-4 Part 2 + AMR): neither plays
everywhere. Every frame is decoded and encoded again with settings written out here; the video
bit rate is chosen from the duration so the file fits the size it must fit, and the picture is
made smaller when that bit rate would be too low for its size.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.errors import DoesNotFit, PermanentError

if TYPE_CHECKING:
    import av

logger = logging.getLogger(__name__)

AUDIO_RATE = 44_100
AUDIO_BIT_RATE = 96_000
MAX_VIDEO_BIT_RATE = 2_000_000
MAX_LONG_SIDE = 1280
SMALL_LONG_SIDE = 640  # below ~600 kbit/s a 1280-pixel picture is all blocks
_SMALL_BELOW_BIT_RATE = 600_000
_MIN_VIDEO_BIT_RATE = 64_000
# Container overhead and the encoder's rate-control slack.
_HEADROOM = 0.85


def to_mp4(source: Path, output: Path, *, max_bytes: int) -> float:
    """Write ``source`` as an MP4 under ``max_bytes``; returns its duration in seconds."""
    import av  # noqa: PLC0415 - only conversions load FFmpeg
    import av.error  # noqa: PLC0415

    try:
        with av.open(str(source), "r") as container:
            seconds = _duration(container)
            if not container.streams.video:
                raise PermanentError("the file has no video stream", operation="convert")
            budget = max_bytes * 8 * _HEADROOM / max(seconds, 1.0)
            has_audio = bool(container.streams.audio)
            video_rate = int(min(MAX_VIDEO_BIT_RATE, budget - (AUDIO_BIT_RATE if has_audio else 0)))
            if video_rate < _MIN_VIDEO_BIT_RATE:
                raise DoesNotFit(
                    f"a video of {seconds:.0f} s cannot fit in {max_bytes // (1024 * 1024)} MB",
                    operation="convert",
                )
            _transcode(container, output, video_rate)
    except (av.error.FFmpegError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise PermanentError(f"not a readable video ({reason})", operation="convert") from exc
    size = output.stat().st_size
    if size > max_bytes:
        raise DoesNotFit(
            f"the video is {size // (1024 * 1024)} MB once converted, over "
            f"{max_bytes // (1024 * 1024)} MB",
            operation="convert",
        )
    return seconds


def _duration(container: av.container.InputContainer) -> float:
    if container.duration is not None:
        return container.duration / 1_000_000
    stream = container.streams.video[0] if container.streams.video else None
    if stream is not None and stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return 0.0


def _transcode(container: av.container.InputContainer, output: Path, video_rate: int) -> None:
    import av  # noqa: PLC0415
    import av.error  # noqa: PLC0415

    source_video = container.streams.video[0]
    source_audio = container.streams.audio[0] if container.streams.audio else None
    long_side = SMALL_LONG_SIDE if video_rate < _SMALL_BELOW_BIT_RATE else MAX_LONG_SIDE
    width, height = _fit(source_video.width, source_video.height, long_side)
    fps = source_video.average_rate or Fraction(25)
    with av.open(
        str(output),
        "w",
        format="mp4",
        options={"movflags": "+faststart"},
        container_options={"fflags": "+bitexact"},
    ) as sink:
        video = sink.add_stream(
            "libx264",
            rate=fps,
            options={"preset": "veryfast", "profile": "main", "tune": "film", "threads": "2"},
        )
        if not isinstance(video, av.VideoStream):  # pragma: no cover - libx264 is video
            raise TypeError("libx264 is not a video encoder")
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.bit_rate = video_rate
        audio = None
        if source_audio is not None:
            audio = sink.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            if not isinstance(audio, av.AudioStream):  # pragma: no cover
                raise TypeError("aac is not an audio encoder")
            audio.bit_rate = AUDIO_BIT_RATE
        streams = [s for s in (source_video, source_audio) if s is not None]
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        samples = 0
        for packet in container.demux(*streams):
            try:
                frames = packet.decode()
            except (av.error.FFmpegError, ValueError):
                continue  # a damaged packet: keep the rest of the video
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    picture = frame.reformat(width=width, height=height, format="yuv420p")
                    picture.pts = frame.pts
                    picture.time_base = frame.time_base
                    sink.mux(video.encode(picture))
                elif audio is not None and isinstance(frame, av.AudioFrame):
                    for part in resampler.resample(frame):
                        part.pts = samples
                        part.time_base = Fraction(1, AUDIO_RATE)
                        samples += part.samples
                        sink.mux(audio.encode(part))
        sink.mux(video.encode(None))
        if audio is not None:
            for part in resampler.resample(None):
                part.pts = samples
                part.time_base = Fraction(1, AUDIO_RATE)
                samples += part.samples
                sink.mux(audio.encode(part))
            sink.mux(audio.encode(None))


def _fit(width: int, height: int, long_side: int) -> tuple[int, int]:
    """The size within ``long_side`` keeping the aspect ratio, both even (H.264 4:2:0 needs it)."""
    scale = min(1.0, long_side / max(width, height, 1))
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
