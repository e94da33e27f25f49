"""Every non-media message fixture gives the agent something to read."""

from __future__ import annotations

from pathlib import Path

import pytest

from waconnect.domain.whatsapp import InboundMessage
from waconnect.wire.inbound import parse_whatsapp_document

EVENTS = Path(__file__).resolve().parents[1] / "events"


def non_media_messages() -> list[tuple[str, InboundMessage]]:
    found = []
    for source in ("meta", "eum"):
        for path in sorted((EVENTS / source).glob("*.json")):
            if "subscription" in path.stem:
                continue
            batch = parse_whatsapp_document(path.read_bytes())
            found.extend(
                (f"{source}/{path.stem}/{i}", m)
                for i, m in enumerate(batch.messages)
                if not m.has_media
            )
    return found


CASES = non_media_messages()


@pytest.mark.parametrize("message", [m for _, m in CASES], ids=[name for name, _ in CASES])
def test_non_media_message_renders_to_visible_agent_text(message: InboundMessage) -> None:
    from waconnect.domain.render import render_for_agent

    assert render_for_agent(message, quoted=None).strip()
