"""Synthetic voice notes for the benchmarks: OGG/Opus mono at 48 kHz, any length, made quickly.

One second of a gliding voiced tone shaped into syllables, with a pause at its end, is encoded
again and again at 24 kbit/s (WhatsApp's voice notes are 48 kHz mono Opus at about that rate):
the decoder and the resampler work on it as on speech, and an hour of it is made in about a
minute of CPU. PyAV is imported only when a note is made, so a benchmark's cold-start child may
import this module without paying for it.
"""

from __future__ import annotations

import io
import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

RATE = 48_000
BIT_RATE = 24_000


def one_second() -> bytes:
    """A second of s16 mono samples at ``RATE``: voiced syllables, then a short pause."""
    samples = bytearray()
    phase = 0.0
    for n in range(RATE):
        t = n / RATE
        phase += 2 * math.pi * (150.0 + 45.0 * math.sin(2 * math.pi * 0.7 * t)) / RATE
        voiced = sum(math.sin(k * phase) / k for k in (1, 2, 3, 5))
        syllable = max(0.0, math.sin(2 * math.pi * 4.0 * t)) ** 0.6
        samples += struct.pack("<h", int(9000 * voiced * syllable * (0.0 if t > 0.85 else 1.0)))
    return bytes(samples)


def voice_note(seconds: int) -> bytes:
    """An OGG/Opus voice note of ``seconds`` whole seconds, in memory."""
    buffer = io.BytesIO()
    _encode(buffer, seconds)
    return buffer.getvalue()


def write_voice_note(path: Path, seconds: int) -> Path:
    """An OGG/Opus voice note of ``seconds`` written straight to ``path`` (no copy in memory)."""
    _encode(str(path), seconds)
    return path


def _encode(target: Any, seconds: int) -> None:
    import av  # noqa: PLC0415 - only a benchmark that makes a note loads FFmpeg

    second = one_second()
    with av.open(target, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=RATE, layout="mono")
        stream.bit_rate = BIT_RATE
        for index in range(seconds):
            frame = av.AudioFrame(format="s16", layout="mono", samples=RATE)
            frame.planes[0].update(second)
            frame.rate = RATE
            frame.pts = index * RATE
            frame.time_base = Fraction(1, RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
