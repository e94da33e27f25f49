"""Each media type both ways, end to end through the emulators: what the other side receives.

These are the rows of the README's media table: every one is a replay of real files.
"""

from __future__ import annotations

import io
import logging
import random
import zipfile
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from tests.e2e.conftest import ANA
from tests.media_samples import video_file

pytestmark = pytest.mark.slow

OPEN_CHAT = {"action": "customer.text", "customer": ANA, "text": "Hello"}


def _heic(width: int = 64, height: int = 48) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="HEIF", quality=80)
    return buffer.getvalue()


def _codecs(path: Path) -> tuple[str, ...]:
    with av.open(str(path)) as container:
        return tuple(stream.codec_context.name for stream in container.streams)


def test_a_customer_3gp_video_reaches_the_agent_as_h264_mp4(play: Any, tmp_path: Path) -> None:
    clip = tmp_path / "clip.3gp"
    clip.write_bytes(video_file("3gp", seconds=1.0))

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(clip)}], keep=True)

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    # WhatsApp sends videos without a name: the bridge names it by kind and time.
    assert attachment["attachment"].startswith("video-")
    assert attachment["attachment"].endswith(".mp4")
    assert attachment["content_type"] == "video/mp4"
    [mp4] = replayed.kept(attachment["attachment"])
    assert _codecs(mp4) == ("h264", "aac")


def test_a_program_named_invoice_pdf_reaches_nobody(
    play: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00" + bytes(300))

    with caplog.at_level(logging.WARNING, logger="waconnect"):
        replayed = play([{"action": "customer.file", "customer": ANA, "path": str(fake)}])

    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused, "the refusal is logged"
    assert not [line for line in refused if "invoice" in line], refused

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "a Windows program disguised as “invoice.pdf”" in notice
    assert "http" not in notice
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "❌"
    told = replayed.one(step=0, to="customer", kind="text")["text"]
    assert "did not reach our agent" in told


def test_an_agent_program_named_invoice_pdf_never_reaches_the_customer(
    play: Any, tmp_path: Path
) -> None:
    fake = tmp_path / "invoice.pdf"
    fake.write_bytes(b"MZ\x90\x00" + bytes(300))

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(fake)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=1, to="customer") == []
    notice = replayed.one(step=1, to="agent", kind="message")["text"]
    assert "Windows program" in notice
    # The bridge's own check refused it, and the agent is told so, not that WhatsApp did.
    assert "the bridge does not pass on this file" in notice
    assert "WhatsApp" not in notice


def test_an_agent_mov_reaches_the_customer_as_an_mp4_video(play: Any, tmp_path: Path) -> None:
    mov = tmp_path / "site-visit.mov"
    mov.write_bytes(video_file("mov", seconds=1.0))

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(mov)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="video")
    assert sent["content_type"] == "video/mp4"


def test_an_agent_heic_photo_reaches_the_customer_as_a_jpeg_image(
    play: Any, tmp_path: Path
) -> None:
    heic = tmp_path / "photo.heic"
    heic.write_bytes(_heic())

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(heic)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="image")
    assert sent["content_type"] == "image/jpeg"


def _spoken_note(tmp_path: Path, words: str) -> Path:
    """``words`` said by espeak-ng, as the OGG/Opus voice note a phone would send."""
    import shutil
    import subprocess

    from waconnect.media.conversions import transcode_file

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is missing: scripts/setup.sh installs it")
    spoken = tmp_path / "spoken.wav"
    subprocess.run(
        [espeak, "-s", "140", "-v", "en-us", "-w", str(spoken), words], check=True, timeout=60
    )
    note = tmp_path / "spoken.ogg"
    transcode_file(spoken, note, "ogg-opus")
    return note


def test_a_spoken_voice_note_is_followed_by_its_transcript_both_ways(
    play: Any, tmp_path: Path
) -> None:
    note = _spoken_note(tmp_path, "one two three four five six seven eight nine")

    replayed = play([{"action": "customer.voice", "customer": ANA, "path": str(note)}])

    assert replayed.exit_code == 0, replayed.dump()
    agent = replayed.where(step=0, to="agent")
    assert [line["kind"] for line in agent] == ["attachment", "message"], replayed.dump()
    transcript = agent[1]["text"]
    assert transcript.startswith("🔊 ")
    echo = replayed.one(step=0, to="customer", kind="text")
    assert echo["text"] == transcript


def test_an_empty_file_is_a_notice_saying_so(play: Any, tmp_path: Path) -> None:
    empty = tmp_path / "scan.pdf"
    empty.write_bytes(b"")

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(empty)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "the file is empty" in notice


def test_a_zip_bomb_named_as_a_workbook_reaches_nobody(play: Any, tmp_path: Path) -> None:
    bomb = tmp_path / "prices.xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("_rels/.rels", "<Relationships/>")
        package.writestr("xl/workbook.xml", "<workbook/>")
        package.writestr("xl/sharedStrings.xml", bytes(300 * 1024 * 1024))
    bomb.write_bytes(buffer.getvalue())

    replayed = play([{"action": "customer.file", "customer": ANA, "path": str(bomb)}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=0, to="agent", kind="attachment") == []
    notice = replayed.one(step=0, to="agent", kind="message")["text"]
    assert "zip bomb" in notice
    assert "http" not in notice
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "❌"


def test_an_agent_photo_over_5_mb_reaches_the_customer_recompressed_as_a_jpeg(
    play: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "site.png"
    Image.frombytes("RGB", (1600, 1400), random.Random(7).randbytes(1600 * 1400 * 3)).save(photo)
    assert photo.stat().st_size > 5 * 1024 * 1024

    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(photo)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="image")
    assert sent["content_type"] == "image/jpeg"
    assert sent["size"] <= 5 * 1024 * 1024
