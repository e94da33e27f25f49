"""The agent's texts and files reach the customer as proper WhatsApp messages (DESIGN.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, connect_notification, sha256_of

pytestmark = pytest.mark.slow

OPEN_CHAT = {"action": "customer.text", "customer": ANA, "text": "Hello"}


def test_an_agent_text_reaches_the_customer_as_a_whatsapp_text(play: Any) -> None:
    replayed = play([OPEN_CHAT, {"action": "agent.text", "customer": ANA, "text": "Hi Ana!"}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="text")
    assert (sent["customer"], sent["text"]) == (ANA, "Hi Ana!")


@pytest.mark.parametrize(
    "case",
    [
        ("terms.pdf", "document", "application/pdf", True),
        ("picture.png", "image", "image/png", True),
        ("photo.jpg", "image", "image/jpeg", True),
        ("clip.mp4", "video", "video/mp4", True),
        ("reply.wav", "audio", "audio/ogg", False),
    ],
    ids=lambda case: f"{case[0]}->{case[1]}",
)
def test_each_kind_of_agent_attachment_reaches_the_customer_as_the_right_message(
    play: Any, media: Path, case: tuple[str, str, str, bool]
) -> None:
    name, kind, content_type, same_bytes = case
    path = media / name
    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(path)}])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind=kind)
    assert sent["customer"] == ANA
    assert sent["content_type"].split(";")[0] == content_type
    if same_bytes:
        assert sent["sha256"] == sha256_of(path)
        assert sent["size"] == path.stat().st_size
    if kind == "document":
        assert sent["attachment"] == name


def test_an_agent_wav_becomes_a_voice_note_of_the_same_length(play: Any, media: Path) -> None:
    wav = media / "reply.wav"
    replayed = play([OPEN_CHAT, {"action": "agent.file", "customer": ANA, "path": str(wav)}])

    assert replayed.exit_code == 0, replayed.dump()
    voice = replayed.one(step=1, to="customer", kind="audio")
    assert "opus" in voice["content_type"] or voice["content_type"] == "audio/ogg"
    assert abs(voice["duration"] - 1.5) <= 0.05


def test_a_connect_event_for_an_unknown_contact_is_ignored_with_a_reason(play: Any) -> None:
    stranger = "aaaaaaaa-0000-4000-8000-00000000dead"
    replayed = play([{"payload": connect_notification(contact_id=stranger, content="Hi?")}])

    assert replayed.exit_code == 0, replayed.dump()
    [line] = replayed.lines
    assert (line["to"], line["kind"]) == ("system", "ignored")
    assert line["reason"]
    assert replayed.where(to="customer") == []
