"""A replay shows an agent reply sent after the customer service window closed as a failure,
and the agent is told in the chat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.media_samples import pdf_file
from waconnect.sandbox.delivery import WINDOW_REASON, WINDOW_SECONDS
from waconnect.sandbox.replay import replay

pytestmark = pytest.mark.slow

ANA = "15550100451"


def test_agent_replies_after_24_hours_print_failed_lines_not_customer_messages(
    tmp_path: Path,
) -> None:
    (tmp_path / "terms.pdf").write_bytes(pdf_file(("Terms", "Nothing to see here.")))
    steps = [
        {"action": "customer.text", "customer": ANA, "name": "Ana", "text": "t0"},
        {"action": "agent.text", "customer": ANA, "text": "in time"},
        {"action": "clock.advance", "seconds": WINDOW_SECONDS + 1600},
        {"label": "late", "action": "agent.text", "customer": ANA, "text": "after the window"},
        {"label": "latefile", "action": "agent.file", "customer": ANA, "path": "terms.pdf"},
    ]
    scenario = tmp_path / "window.json"
    scenario.write_text(json.dumps(steps), encoding="utf-8")

    result = replay(scenario)

    dump = "\n".join(json.dumps(line) for line in result.lines)
    assert result.exit_code == 0, dump
    in_time = [line for line in result.lines if line["step"] == 1 and line["to"] == "customer"]
    assert [line["kind"] for line in in_time] == ["text"], dump
    for step in (3, 4):
        to_customer = [
            line for line in result.lines if line["step"] == step and line["to"] == "customer"
        ]
        failed = [
            line for line in result.lines if line["step"] == step and line["kind"] == "failed"
        ]
        assert to_customer == [], dump
        # WhatsApp's failed status, then the bridge's notice of it in the agent's chat.
        assert [(line["customer"], line["reason"]) for line in failed] == [
            (ANA, WINDOW_REASON),
            (ANA, "outside_24h_window"),
        ], dump
        [notice] = [line for line in result.lines if line["step"] == step and line["to"] == "agent"]
        assert "did not reach the customer" in notice["text"], dump
        assert "more than 24 hours have passed" in notice["text"], dump
