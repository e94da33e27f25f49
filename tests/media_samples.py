"""Small media files generated on the spot with PyAV (and a little hand-written PDF and zip).

Nothing here is downloaded or checked in: every sample is built from a deterministic signal, so a
test can make exactly the file it needs (a voice note of N seconds, an AMR clip, a JPEG frame).
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
from fractions import Fraction
from functools import lru_cache

import av

# (container format, encoder, sample rate, channels) for each audio sample kind.
AUDIO_KINDS: dict[str, tuple[str, str, int, int]] = {
    "ogg-opus": ("ogg", "libopus", 48_000, 1),
    "ogg-opus-stereo": ("ogg", "libopus", 48_000, 2),
    "wav": ("wav", "pcm_s16le", 44_100, 2),
    "wav16k": ("wav", "pcm_s16le", 16_000, 1),
    "mp3": ("mp3", "libmp3lame", 44_100, 2),
    "amr": ("amr", "libopencore_amrnb", 8_000, 1),
    "aac": ("adts", "aac", 44_100, 1),
    "m4a": ("ipod", "aac", 44_100, 2),
    "flac": ("flac", "flac", 22_050, 1),
}

_CHUNK = 1024


def speech_like_pcm(seconds: float, rate: int, channels: int = 1) -> bytes:
    """Interleaved s16 samples that sound a little like speech: voiced syllables and pauses.

    A gliding fundamental (110-220 Hz) with a few harmonics, shaped into ~4 syllables a second
    with a short pause every second, so codecs meant for voice have something real to encode.
    """
    total = round(seconds * rate)
    out = bytearray()
    phase = 0.0
    for n in range(total):
        t = n / rate
        pitch = 150.0 + 45.0 * math.sin(2 * math.pi * 0.7 * t)
        phase += 2 * math.pi * pitch / rate
        voiced = sum(math.sin(k * phase) / k for k in (1, 2, 3, 5))
        syllable = max(0.0, math.sin(2 * math.pi * 4.0 * t)) ** 0.6
        pause = 0.0 if (t % 1.0) > 0.85 else 1.0
        value = int(9000 * voiced * syllable * pause)
        out += struct.pack("<h", value) * channels
    return bytes(out)


@lru_cache(maxsize=32)
def audio_file(kind: str, seconds: float = 3.0) -> bytes:
    """An audio file of ``kind`` (a key of ``AUDIO_KINDS``) lasting about ``seconds``."""
    container_format, codec, rate, channels = AUDIO_KINDS[kind]
    layout = "mono" if channels == 1 else "stereo"
    pcm = speech_like_pcm(seconds, rate, channels)
    frame_bytes = _CHUNK * 2 * channels
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        if codec == "libopus":
            stream.bit_rate = 24_000
        pts = 0
        for start in range(0, len(pcm), frame_bytes):
            chunk = pcm[start : start + frame_bytes]
            samples = len(chunk) // (2 * channels)
            frame = av.AudioFrame(format="s16", layout=layout, samples=samples)
            frame.planes[0].update(chunk)
            frame.rate = rate
            frame.pts = pts
            frame.time_base = Fraction(1, rate)
            pts += samples
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def _rgb_frame(width: int, height: int, seed: int) -> av.VideoFrame:
    """A colourful test card: gradients with a few bars, different for each ``seed``."""
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    padding = bytes(plane.line_size - width * 3)
    rows = bytearray()
    for y in range(height):
        row = bytearray()
        for x in range(width):
            bar = ((x * 6) // width + seed) % 6
            red = (x * 255 // max(width - 1, 1) + 40 * bar) % 256
            green = (y * 255 // max(height - 1, 1) + 30 * seed) % 256
            blue = (128 + 20 * bar + 60 * seed) % 256
            row += bytes((red, green, blue))
        rows += row + padding
    plane.update(bytes(rows))
    return frame


def image_file(
    kind: str = "jpeg", *, width: int = 64, height: int = 48, seed: int = 0, quality: int = 5
) -> bytes:
    """A still image: ``kind`` is ``jpeg``, ``png`` or ``webp``."""
    codec, pix_fmt = {
        "jpeg": ("mjpeg", "yuvj420p"),
        "png": ("png", "rgb24"),
        "webp": ("libwebp", "yuv420p"),
    }[kind]
    context = av.CodecContext.create(codec, "w")
    context.width = width
    context.height = height
    context.pix_fmt = pix_fmt
    context.time_base = Fraction(1, 25)
    if kind == "jpeg":
        # The "q" scale: 2 is best, 31 worst.
        context.qmin = context.qmax = quality
    frame = _rgb_frame(width, height, seed).reformat(format=pix_fmt)
    frame.pts = 0
    packets = [*context.encode(frame), *context.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def video_file(kind: str = "mp4", *, seconds: float = 1.0, with_audio: bool = True) -> bytes:
    """A short video: ``mp4`` (H.264 + AAC), ``mov`` (H.264 + AAC) or ``3gp`` (MPEG-4 + AMR)."""
    container_format, video_codec, audio_codec, audio_rate, size = {
        "mp4": ("mp4", "libx264", "aac", 44_100, (64, 48)),
        "mov": ("mov", "libx264", "aac", 44_100, (64, 48)),
        "3gp": ("3gp", "mpeg4", "libopencore_amrnb", 8_000, (176, 144)),
    }[kind]
    fps = 10
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        video = container.add_stream(video_codec, rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        audio = (
            container.add_stream(audio_codec, rate=audio_rate, layout="mono")
            if with_audio
            else None
        )
        for index in range(round(seconds * fps)):
            frame = _rgb_frame(*size, seed=index).reformat(format="yuv420p")
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
        if audio is not None:
            pcm = speech_like_pcm(seconds, audio_rate)
            frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
            frame.planes[0].update(pcm)
            frame.rate = audio_rate
            frame.pts = 0
            for packet in [*audio.encode(frame), *audio.encode(None)]:
                container.mux(packet)
    return buffer.getvalue()


def pdf_file(lines: list[str] | tuple[str, ...] = ("waconnect test document",)) -> bytes:
    """A small, valid one-page PDF showing ``lines`` of ASCII text in Helvetica."""
    text = ["BT", "/F1 14 Tf", "72 760 Td", "18 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        text.append(f"({escaped}) Tj T*")
    text.append("ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def office_file(kind: str = "docx") -> bytes:
    """A minimal Office Open XML package (``docx``, ``xlsx`` or ``pptx``) as Office writes it."""
    folder, part = {
        "docx": ("word", "document.xml"),
        "xlsx": ("xl", "workbook.xml"),
        "pptx": ("ppt", "presentation.xml"),
    }[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        package.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        package.writestr(f"{folder}/{part}", '<?xml version="1.0"?><root/>')
    return buffer.getvalue()


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notes/readme.txt", "hello")
    return buffer.getvalue()


def ole_file() -> bytes:
    """The 512-byte header of an OLE compound file (legacy .doc/.xls/.ppt), zero-padded."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HH", 0x3E, 3)
    return header + bytes(512 - len(header))


def iso_head(major: bytes, *compatible: bytes) -> bytes:
    """The start of an ISO media file with an ``ftyp`` box naming these brands."""
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def rtf_file() -> bytes:
    return b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Helvetica;}}\\f0 Hello from waconnect.\\par}"


def text_file() -> bytes:
    return "Order 1234: two bags of coffee, one grinder. Olá, obrigado!\n".encode()


def csv_file() -> bytes:
    return b"item,quantity,price\ncoffee,2,9.50\ngrinder,1,35.00\n"


def long_voice_note(seconds: int, *, bit_rate: int = 24_000, opening: bytes = b"") -> bytes:
    """An OGG/Opus voice note of ``seconds`` whole seconds: one second of speech-like sound, over
    and over (fast to make even for an hour).

    ``opening`` (48 kHz mono s16 samples, e.g. real speech) takes the place of the note's first
    seconds. A ``bit_rate`` of 6,000 also sets the encoder's cheapest settings: a 12-minute note
    is then made in about a second, for tests that need the length and not the sound.
    """
    rate = 48_000
    second = speech_like_pcm(1.0, rate)
    options = {"compression_level": "0", "frame_duration": "60"} if bit_rate <= 6_000 else {}
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=rate, layout="mono", options=options)
        stream.bit_rate = bit_rate
        pcm_seconds = [opening[i : i + 2 * rate] for i in range(0, len(opening), 2 * rate)]
        for index in range(seconds):
            chunk = pcm_seconds[index] if index < len(pcm_seconds) else second
            chunk = chunk.ljust(2 * rate, b"\0")
            frame = av.AudioFrame(format="s16", layout="mono", samples=rate)
            frame.planes[0].update(chunk)
            frame.rate = rate
            frame.pts = index * rate
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
