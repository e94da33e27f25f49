"""Small real media files made on the fly with PyAV (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import math
import struct

import av


def tone_ogg_opus(seconds: float = 1.0) -> bytes:
    """An OGG/Opus mono voice note of a 440 Hz tone."""
    rate = 48000
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate)
        stream.layout = "mono"
        total = int(seconds * rate)
        step = 960
        for start in range(0, total, step):
            count = min(step, total - start)
            samples = [
                int(8000 * math.sin(2 * math.pi * 440 * (start + i) / rate)) for i in range(count)
            ]
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(struct.pack(f"<{count}h", *samples))
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def tone_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A PCM s16le mono WAV of a 440 Hz tone."""
    count = int(seconds * rate)
    data = struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count))
    )
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE", b"fmt ", 16, 1, 1,
        rate, rate * 2, 2, 16, b"data", len(data),
    )  # fmt: skip
    return header + data


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200) + b"\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(120)
