"""Scenario files with hostile text replay like any other: nothing reaches an emulator that it
could not encode, and the customer's words arrive with the bad character replaced."""

from __future__ import annotations

import json
from pathlib import Path

from waconnect.sandbox.replay import replay


def test_lone_surrogates_in_a_scenario_reach_the_agent_as_replacement_characters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "surrogates.json"
    steps = [
        {
            "action": "customer.text",
            "customer": "15550100001",
            "name": "Ana\ud800\u202e",
            "text": "hi \udfff there",
        }
    ]
    # As a sender writes it: the surrogates as JSON escapes (no UTF-8 can hold them raw).
    path.write_text(json.dumps(steps), encoding="utf-8")

    result = replay(path)

    assert result.exit_code == 0, result.lines
    agent = [line for line in result.lines if line["to"] == "agent"]
    assert [line["text"] for line in agent] == ["hi \ufffd there"]
    json.dumps(list(result.lines), ensure_ascii=False).encode("utf-8")
