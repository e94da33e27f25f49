"""Every kind of file in the README's media table, both ways, in one replay per direction.

Each step is one file; its lines show what reached the other side: the attachment (its name,
type and bytes) in the agent's chat, or the WhatsApp message kind the customer received.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, sha256_of
from tests.media_samples import (
    audio_file,
    csv_file,
    office_file,
    rtf_file,
    text_file,
    video_file,
)

pytestmark = pytest.mark.slow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# file name, how it is made, what Connect receives (content type, same bytes as sent)
CUSTOMER_FILES: list[tuple[str, Callable[[], bytes], str, bool]] = [
    ("clip.mov", lambda: video_file("mov"), "video/quicktime", True),
    ("memo.amr", lambda: audio_file("amr", 2.0), "audio/wav", False),
    ("memo.aac", lambda: audio_file("aac", 2.0), "audio/wav", False),
    ("memo.m4a", lambda: audio_file("m4a", 2.0), "audio/wav", False),
    ("memo.mp3", lambda: audio_file("mp3", 2.0), "audio/wav", False),
    ("memo.wav", lambda: audio_file("wav16k", 2.0), "audio/wav", True),
    ("letter.docx", lambda: office_file("docx"), DOCX, True),
    ("prices.xlsx", lambda: office_file("xlsx"), XLSX, True),
    ("slides.pptx", lambda: office_file("pptx"), PPTX, True),
    ("order.txt", text_file, "text/plain", True),
    ("order.csv", csv_file, "text/csv", True),
    ("letter.rtf", rtf_file, "application/rtf", True),
]

# file name, how it is made, the WhatsApp message kind and content type the customer receives
# (Connect's default settings take from the agent no audio but .wav and no video but .mp4/.mov:
# those are in test_replay_outbound and test_replay_media_types)
AGENT_FILES: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("letter.docx", lambda: office_file("docx"), "document", DOCX),
    ("prices.xlsx", lambda: office_file("xlsx"), "document", XLSX),
    ("slides.pptx", lambda: office_file("pptx"), "document", PPTX),
    ("order.txt", text_file, "document", "text/plain"),
    ("order.csv", csv_file, "document", "text/csv"),
    ("letter.rtf", rtf_file, "document", "application/rtf"),
]


def test_each_kind_of_customer_file_reaches_the_agent_as_the_table_says(
    play: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WACONNECT_TRANSCRIPTION", "none")
    steps = []
    for name, make, _, _ in CUSTOMER_FILES:
        (tmp_path / name).write_bytes(make())
        steps.append({"action": "customer.file", "customer": ANA, "path": str(tmp_path / name)})

    replayed = play(steps, keep=True)

    assert replayed.exit_code == 0, replayed.dump()
    for step, (name, _, content_type, same_bytes) in enumerate(CUSTOMER_FILES):
        attachment = replayed.one(step=step, to="agent", kind="attachment")
        assert attachment["content_type"] == content_type, (name, attachment)
        if same_bytes:
            assert attachment["sha256"] == sha256_of(tmp_path / name), name
        else:
            assert attachment["attachment"].endswith(".wav"), (name, attachment)
            assert attachment["duration"] == pytest.approx(2.0, abs=0.1), (name, attachment)
        assert replayed.one(step=step, to="customer", kind="reaction")["emoji"] == "📎"


def test_each_kind_of_agent_file_reaches_the_customer_as_the_table_says(
    play: Any, tmp_path: Path
) -> None:
    steps: list[dict[str, Any]] = [{"action": "customer.text", "customer": ANA, "text": "Hi"}]
    for name, make, _, _ in AGENT_FILES:
        (tmp_path / name).write_bytes(make())
        steps.append({"action": "agent.file", "customer": ANA, "path": str(tmp_path / name)})

    replayed = play(steps)

    assert replayed.exit_code == 0, replayed.dump()
    for step, (name, _, kind, content_type) in enumerate(AGENT_FILES, start=1):
        sent = replayed.one(step=step, to="customer", kind=kind)
        assert sent["content_type"].split(";")[0] == content_type, (name, sent)
        if kind == "document":
            assert sent["attachment"] == name
            assert sent["sha256"] == sha256_of(tmp_path / name)
        assert replayed.where(step=step, to="agent") == [], name
