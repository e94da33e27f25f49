"""Agent → customer end to end: markdown, ended chats and unreadable interactive content,
through the emulators as a replay shows them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.conftest import ANA, connect_notification
from waconnect.domain.connect import INTERACTIVE_CONTENT_TYPE

pytestmark = pytest.mark.slow

OPEN_CHAT = {"action": "customer.text", "customer": ANA, "text": "Hello"}


def typed(payload: dict[str, Any], content_type: str) -> dict[str, Any]:
    """A Connect notification of ``payload``'s shape carrying another ContentType."""
    message = json.loads(payload["Message"])
    message["ContentType"] = content_type
    attributes = dict(payload["MessageAttributes"])
    attributes["ContentType"] = {"Type": "String", "Value": content_type}
    return {**payload, "Message": json.dumps(message), "MessageAttributes": attributes}


def contact_of(play: Any) -> str:
    """The contact id the opening step mints (replays mint the same ids every run)."""
    opened = play([OPEN_CHAT])
    started = opened.one(step=0, to="system", kind="chat.started")
    return str(started["contact_id"])


def test_agent_markdown_reaches_the_customer_in_whatsapp_formatting(play: Any) -> None:
    text = "## Next steps\n- **Sign** the form\n- read [the guide](https://example.com/g_1)"
    agent = {"action": "agent.text", "customer": ANA, "text": text, "content_type": "text/markdown"}

    replayed = play([OPEN_CHAT, agent])

    assert replayed.exit_code == 0, replayed.dump()
    sent = replayed.one(step=1, to="customer", kind="text")
    assert sent["text"] == (
        "*Next steps*\n• *Sign* the form\n• read the guide (https://example.com/g_1)"
    )


def test_an_agent_message_after_the_chat_ended_never_reaches_the_customer(play: Any) -> None:
    contact_id = contact_of(play)
    late = connect_notification(contact_id=contact_id, content="Still there?")

    replayed = play([OPEN_CHAT, {"action": "agent.end", "customer": ANA}, {"payload": late}])

    assert replayed.exit_code == 0, replayed.dump()
    [ignored] = replayed.where(step=2)
    assert (ignored["to"], ignored["kind"], ignored["reason"]) == (
        "system",
        "ignored",
        "chat ended",
    )
    assert replayed.where(step=2, to="customer") == []


def test_interactive_content_that_is_not_json_tells_the_agent_not_the_customer(
    play: Any,
) -> None:
    contact_id = contact_of(play)
    broken = typed(
        connect_notification(contact_id=contact_id, content='{"templateType": "ListPicker", '),
        INTERACTIVE_CONTENT_TYPE,
    )

    replayed = play([OPEN_CHAT, {"payload": broken}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.where(step=1, to="customer") == []
    notice = replayed.one(step=1, to="agent", kind="message")
    assert notice["text"].startswith("⚠️ Your message did not reach the customer")
    assert "ListPicker" not in notice["text"]
