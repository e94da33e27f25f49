"""Files that are empty, damaged, too long, too large, bombs, or of a type one side refuses.

Each test replays the file through the emulators and shows both sides: what the agent's chat
holds, and what the customer's WhatsApp shows (a read mark, a 📎, a ❌ and why, or nothing).
These are rows of the README's media table.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import av
import pytest

from tests.e2e.conftest import ANA, sha256_of
from tests.media_samples import audio_file, image_file, video_file

pytestmark = pytest.mark.slow

OPEN_CHAT = {"action": "customer.text", "customer": ANA, "text": "Hello"}


def _heic(width: int = 64, height: int = 48) -> bytes:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="HEIF", quality=80)
    return buffer.getvalue()


def _png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A 100-byte PNG whose header claims ``width`` × ``height`` pixels (2.5 gigapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes(1000))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def no_transcripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Voice notes without transcripts: these tests are about the recording."""
    monkeypatch.setenv("WACONNECT_TRANSCRIPTION", "none")


def _customer_sees_only_the_read_mark(replayed: Any, *, file_reaction: bool) -> None:
    told = replayed.where(step=0, to="customer")
    kinds = sorted(line["kind"] for line in told)
    assert kinds == (["reaction", "read"] if file_reaction else ["read"]), replayed.dump()
    if file_reaction:
        assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "📎"


# ---- customer → agent -------------------------------------------------------------------------


def test_a_customer_heic_photo_reaches_the_agent_as_the_same_file(
    play: Any, tmp_path: Path
) -> None:
    heic = tmp_path / "photo.heic"
    heic.write_bytes(_heic())

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(heic)}])

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    assert attachment["attachment"].endswith(".heic")
    assert attachment["content_type"] == "image/heic"
    assert attachment["sha256"] == sha256_of(heic)
    _customer_sees_only_the_read_mark(replayed, file_reaction=True)


def test_an_empty_customer_file_is_a_notice_and_the_customer_sees_it_read(
    play: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "scan.pdf"
    empty.write_bytes(b"")

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(empty)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "“scan.pdf”" in notice
    assert "could not be attached: the file is empty" in notice
    assert "Download" not in notice  # an empty file has nothing to download
    _customer_sees_only_the_read_mark(replayed, file_reaction=False)


def test_a_customer_image_bomb_reaches_nobody_and_the_customer_is_told(
    play: Any, tmp_path: Path
) -> None:
    bomb = tmp_path / "photo.png"
    bomb.write_bytes(_png_bomb())

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(bomb)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "(an image bomb)" in notice
    assert "http" not in notice
    assert "sandbox link" not in notice
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "❌"
    told = replayed.one(step=0, to="customer", kind="text")["text"]
    assert "did not reach our agent" in told


def test_a_damaged_voice_note_reaches_the_agent_as_far_as_it_decodes_and_says_so(
    play: Any, tmp_path: Path, no_transcripts: None
) -> None:
    note = bytearray(audio_file("ogg-opus", seconds=8.0))
    # A stretch of scrambled bytes a third of the way in: those Ogg pages fail their checksum.
    for index in range(len(note) // 3, len(note) // 3 + 4000):
        note[index] = (note[index] * 7 + 3) % 256
    damaged = tmp_path / "damaged.ogg"
    damaged.write_bytes(bytes(note))

    replayed = play([{"action": "customer.voice", "customer": ANA, "path": str(damaged)}])

    assert replayed.exit_code == 0, replayed.dump()
    agent = replayed.where(step=0, to="agent")
    assert [line["kind"] for line in agent] == ["attachment", "message"], replayed.dump()
    wav, notice = agent
    assert wav["content_type"] == "audio/wav"
    assert 1.0 < wav["duration"] < 7.5
    assert notice["text"].startswith(f"📎 {wav['attachment']}: the recording is damaged: ")
    assert notice["text"].endswith("of 8 s could be converted.")
    _customer_sees_only_the_read_mark(replayed, file_reaction=True)


def test_a_voice_note_nothing_of_which_decodes_reaches_the_agent_as_a_link_and_why(
    play: Any, tmp_path: Path, no_transcripts: None
) -> None:
    note = audio_file("ogg-opus", seconds=2.0)
    # The Ogg header pages survive (so it is still a voice note), then nothing is audio.
    garbage = tmp_path / "garbage.ogg"
    garbage.write_bytes(note[:200] + bytes(range(256)) * 20)

    replayed = play([{"action": "customer.voice", "customer": ANA, "path": str(garbage)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "could not be attached: it could not be converted (not a readable audio file" in notice
    assert "Download it while the link lasts: <sandbox link: " in notice
    assert "inbound/" not in notice, "never the bridge's storage key"
    _customer_sees_only_the_read_mark(replayed, file_reaction=False)


def test_a_voice_note_longer_than_the_bridge_converts_is_cut_there_and_said_so(
    play: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_transcripts: None
) -> None:
    monkeypatch.setenv("WACONNECT_MAX_AUDIO_SECONDS", "3")
    note = tmp_path / "long.ogg"
    note.write_bytes(audio_file("ogg-opus", seconds=8.0))

    replayed = play([{"action": "customer.voice", "customer": ANA, "path": str(note)}])

    assert replayed.exit_code == 0, replayed.dump()
    agent = replayed.where(step=0, to="agent")
    assert [line["kind"] for line in agent] == ["attachment", "message"], replayed.dump()
    wav, notice = agent
    assert wav["duration"] == pytest.approx(3.0, abs=0.01)
    assert wav["size"] == 44 + 3 * 32_000
    assert notice["text"] == (
        f"📎 {wav['attachment']}: only its first 3 s were converted "
        "(the bridge converts at most 3 s of a recording)."
    )
    _customer_sees_only_the_read_mark(replayed, file_reaction=True)


def test_a_customer_file_over_connects_limit_reaches_the_agent_as_a_link(
    play: Any, tmp_path: Path
) -> None:
    big = tmp_path / "statement.pdf"
    with big.open("wb") as out:
        out.write(b"%PDF-1.4\n")
        for _ in range(21):
            out.write(bytes(1024 * 1024))
        out.write(b"\n%%EOF\n")

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(big)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "“statement.pdf” (application/pdf, 21 MB) could not be attached" in notice
    assert "over the 20 MB limit" in notice
    assert "Download it while the link lasts: <sandbox link: statement.pdf>" in notice
    _customer_sees_only_the_read_mark(replayed, file_reaction=False)


# ---- agent → customer -------------------------------------------------------------------------


def test_an_agent_jfif_photo_reaches_the_customer_as_a_jpeg_image(
    play: Any, tmp_path: Path
) -> None:
    jfif = tmp_path / "receipt.jfif"
    jfif.write_bytes(image_file("jpeg", width=96, height=72, seed=4))

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(jfif)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="image")
    assert sent["content_type"] == "image/jpeg"
    assert sent["sha256"] == sha256_of(jfif)
    assert replayed.where(step=1, to="agent") == []


def _webp() -> bytes:
    return image_file("webp", width=64, height=64, seed=3)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("sticker.webp", _webp),
        ("files.zip", _zip),
        ("clip.3gp", lambda: video_file("3gp")),
        ("answer.mp3", lambda: audio_file("mp3", 2.0)),
    ],
    ids=["webp", "zip", "3gp", "mp3"],
)
def test_an_agent_file_connect_refuses_by_default_never_reaches_the_customer(
    play: Any, tmp_path: Path, name: str, data: Any
) -> None:
    path = tmp_path / name
    path.write_bytes(data())

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(path)}])

    assert replayed.exit_code == 0, replayed.dump()
    # Connect's default attachment settings refuse the extension: the attachment is REJECTED
    # in the agent's chat, and the bridge sends nothing.
    assert replayed.where(step=1, to="customer") == []
    ignored = replayed.one(step=1, to="system", kind="ignored")
    assert ignored["reason"] == "attachment rejected"


def test_an_empty_agent_file_is_a_notice_to_the_agent_and_nothing_to_the_customer(
    play: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "terms.pdf"
    empty.write_bytes(b"")

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(empty)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=1, to="customer") == []
    notice = replayed.one(step=1, to="agent", kind="message")["text"]
    assert notice == "⚠️ Your file “terms.pdf” did not reach the customer: the file is empty."


def test_an_agent_image_bomb_is_a_notice_to_the_agent_and_nothing_to_the_customer(
    play: Any, tmp_path: Path
) -> None:
    bomb = tmp_path / "plan.png"
    bomb.write_bytes(_png_bomb())

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(bomb)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=1, to="customer") == []
    notice = replayed.one(step=1, to="agent", kind="message")["text"]
    assert "the bridge does not pass on this file" in notice
    assert "(an image bomb)" in notice


def _long_mov(seconds: int) -> bytes:
    """A .mov of ``seconds`` at one 16 × 16 frame a second: long, yet made in an instant."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mov") as container:
        video = container.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        video.width, video.height = 16, 16
        video.pix_fmt = "yuv420p"
        frame = av.VideoFrame(16, 16, "yuv420p")
        for index in range(seconds):
            frame.pts = index
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def test_an_agent_video_too_long_for_whatsapps_16_mb_reaches_the_customer_as_a_document(
    play: Any, tmp_path: Path
) -> None:
    # 31 minutes: below the lowest bit rate the bridge encodes at, no MP4 of it fits in 16 MB.
    mov = tmp_path / "site-visit.mov"
    mov.write_bytes(_long_mov(31 * 60))

    replayed = play(
        [OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(mov)}], keep=True
    )

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=1, to="customer", kind="video") == []
    sent = replayed.one(step=1, to="customer", kind="document")
    assert sent["attachment"] == "site-visit.mp4"
    assert sent["content_type"] == "video/mp4"
    assert sent["duration"] == pytest.approx(31 * 60, abs=1)
    [mp4] = replayed.kept("site-visit.mp4")
    with av.open(str(mp4)) as container:
        assert [s.codec_context.name for s in container.streams] == ["h264"]
    assert replayed.where(step=1, to="agent") == []


def test_an_agent_photo_over_5_mb_that_cannot_be_recompressed_reaches_the_customer_as_a_document(
    play: Any, tmp_path: Path
) -> None:
    from PIL import Image

    photo = tmp_path / "site.png"
    noise = random.Random(3).randbytes(1600 * 1400 * 3)
    Image.frombytes("RGB", (1600, 1400), noise).save(photo)
    whole = photo.read_bytes()
    # Cut short: the header is whole, the pixels end early, so no JPEG can be made of it.
    photo.write_bytes(whole[: len(whole) - 200_000])
    assert photo.stat().st_size > 5 * 1024 * 1024

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(photo)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="document")
    assert sent["attachment"] == "site.png"
    assert sent["content_type"] == "image/png"
    assert sent["sha256"] == sha256_of(photo)
    assert replayed.where(step=1, to="agent") == []
