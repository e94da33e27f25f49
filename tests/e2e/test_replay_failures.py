"""Replays that prove what survives failures, replies to the agent, and Meta webhook payloads."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, Replayed
from waconnect.sandbox import defaults
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner


def run_with_throttled_caption(media: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """A photo with a caption whose SendMessage is throttled past botocore's own retries."""
    scenario = parse_steps(
        [
            {"action": "customer.text", "customer": ANA, "text": "hi"},
            {"action": "fault.throttle", "operation": "SendMessage", "count": 4},
            {
                "action": "customer.file",
                "customer": ANA,
                "path": "photo.jpg",
                "caption": "the caption",
            },
        ],
        base=media,
    )
    lines: list[dict[str, Any]] = []
    with ScenarioRunner(seed=1, emit=lines.append) as runner:
        for step in scenario.steps:
            runner.run_step(step)
        attachment_names = [a.name for a in runner.cloud.connect_view.attachments()]
    return lines, attachment_names


def test_file_retried_after_its_caption_was_throttled_reaches_the_agent_once(
    media: Path,
) -> None:
    lines, attachment_names = run_with_throttled_caption(media)

    assert len(attachment_names) == 1
    step = [line for line in lines if line["step"] == 2]
    assert [line["kind"] for line in step if line["to"] == "agent"] == ["attachment", "message"]
    assert not [line for line in step if line["kind"] == "failed"]
    assert [line["emoji"] for line in step if line["kind"] == "reaction"] == ["📎"]


def test_customer_reacts_to_and_quotes_the_agents_labelled_reply(play: Any) -> None:
    replayed: Replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "Is my order on its way?"},
            {"label": "answer", "action": "agent.text", "customer": ANA, "text": "Yes, today."},
            {
                "action": "customer.message",
                "customer": ANA,
                "reply_to": "answer",
                "message": {"type": "reaction", "reaction": {"emoji": "👍"}},
            },
            {"action": "customer.text", "customer": ANA, "reply_to": "answer", "text": "Great!"},
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    [reaction] = [line for line in replayed.at(2) if line["to"] == "agent"]
    assert reaction["text"] == "reacted 👍 to: «Yes, today.»"
    [quote] = [line for line in replayed.at(3) if line["to"] == "agent"]
    assert quote["text"].startswith("↩ «Yes, today.»")
    assert quote["text"].endswith("Great!")


def test_reply_to_an_agent_step_that_sent_nothing_is_refused(play: Any) -> None:
    replayed: Replayed = play(
        [
            {"label": "ended", "action": "agent.text", "customer": ANA, "text": "nobody here"},
            {"action": "customer.text", "customer": ANA, "reply_to": "ended", "text": "?"},
        ]
    )

    assert replayed.exit_code != 0
    [refusal] = [line for line in replayed.at(1) if line["kind"] == "rejected"]
    assert "field 'reply_to'" in refusal["reason"]


def meta_webhook(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": defaults.DISPLAY_PHONE_NUMBER,
                                "phone_number_id": defaults.META_PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": ANA}],
                            "messages": [{"from": ANA, "timestamp": "1764000000", **message}],
                        },
                    }
                ],
            }
        ],
    }


def test_meta_webhook_body_with_a_text_and_an_image_reaches_the_agent(
    play: Any, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    replayed: Replayed = play(
        [
            meta_webhook({"id": "wamid.META.1", "type": "text", "text": {"body": "from meta"}}),
            {
                "payload": meta_webhook(
                    {
                        "id": "wamid.META.2",
                        "type": "image",
                        "image": {"id": "7001", "mime_type": "image/jpeg", "sha256": "fake"},
                    }
                ),
                "media": {"7001": str(media / "photo.jpg")},
            },
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    assert [line["text"] for line in replayed.where(to="agent", kind="message")] == ["from meta"]
    [attachment] = replayed.where(to="agent", kind="attachment")
    assert attachment["content_type"] == "image/jpeg"
