"""`waconnect replay` as a whole: exit codes, refusals, determinism, the tour, the script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, REPO, projected
from waconnect.sandbox.replay import EFFECT_KEY_ORDER, pretty_line, replay

pytestmark = pytest.mark.slow

TOUR = REPO / "examples" / "tour.json"


def test_a_malformed_step_is_rejected_with_its_reason_and_the_next_step_still_runs(
    play: Any,
) -> None:
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA},
            {"action": "customer.text", "customer": ANA, "text": "Still delivered"},
            {"action": "customer.dance", "customer": ANA},
        ]
    )

    assert replayed.exit_code == 1
    assert projected(replayed.at(0), "step", "to", "kind", "reason") == [
        {"step": 0, "to": "system", "kind": "rejected", "reason": "step 0: field 'text': required"}
    ]
    assert replayed.one(step=1, to="agent", kind="message")["text"] == "Still delivered"
    [refused] = replayed.at(2)
    assert refused["kind"] == "rejected"
    assert "unknown action 'customer.dance'" in refused["reason"]


def test_an_agent_action_without_an_open_chat_is_rejected(play: Any) -> None:
    replayed = play([{"action": "agent.text", "customer": ANA, "text": "Anyone?"}])

    assert replayed.exit_code == 1
    [line] = replayed.lines
    assert (line["to"], line["kind"]) == ("system", "rejected")
    assert "has no open chat" in line["reason"]


def test_a_step_that_is_neither_an_action_nor_a_known_payload_is_rejected(play: Any) -> None:
    replayed = play([{"acton": "customer.text", "customer": ANA, "text": "typo"}])

    assert replayed.exit_code == 1
    [line] = replayed.lines
    assert line["kind"] == "rejected"
    assert "nor a payload the bridge recognises" in line["reason"]


def test_a_scenario_that_is_not_a_list_exits_2_without_any_line(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{"action": "customer.text"}')

    result = replay(path)

    assert (result.exit_code, result.lines) == (2, ())
    assert "a JSON list of steps" in result.problem


def test_the_same_scenario_prints_the_same_lines_twice() -> None:
    first = replay(TOUR)
    second = replay(TOUR)

    assert first.exit_code == 0
    # Byte for byte: ids, digests, and the file names built from the replay clock's times.
    assert first.lines == second.lines


def test_every_line_uses_only_documented_keys_in_the_documented_order() -> None:
    result = replay(TOUR)

    order = {key: index for index, key in enumerate(EFFECT_KEY_ORDER)}
    for line in result.lines:
        keys = list(line)
        assert keys[:1] == ["step"]
        assert {"to", "kind"} <= set(keys)
        assert keys == sorted(keys, key=order.__getitem__), line


def test_the_tour_crosses_every_file_both_ways(tmp_path: Path) -> None:
    result = replay(TOUR, keep=tmp_path)
    lines = list(result.lines)
    steps = json.loads(TOUR.read_text())

    def effects(step: int, to: str, kind: str) -> list[dict[str, Any]]:
        return [x for x in lines if (x["step"], x["to"], x["kind"]) == (step, to, kind)]

    def step_of(label: str) -> int:
        return next(i for i, s in enumerate(steps) if s.get("label") == label)

    def step_with(key: str, value: str) -> int:
        return next(i for i, s in enumerate(steps) if value in str(s.get(key, "")))

    assert result.exit_code == 0
    assert effects(0, "system", "chat.started")
    assert effects(step_of("photo"), "agent", "attachment")[0]["content_type"] == "image/jpeg"
    assert effects(step_of("receipt"), "agent", "attachment")[0]["attachment"].endswith(".pdf")
    [quote] = effects(step_of("quote"), "agent", "message")
    assert quote["text"] == "↩ «📎 receipt.pdf»\nThat is the receipt from the store."
    [reaction] = effects(step_of("reaction"), "agent", "message")
    assert reaction["text"] == "reacted 🙏 to: «Hi! I was charged twice for my order 1042.»"
    [voice] = effects(step_of("voice"), "agent", "attachment")
    assert voice["attachment"].endswith(".wav")
    assert voice["duration"] >= 3.0
    second = step_of("second customer")
    assert effects(second, "system", "chat.started")[0]["customer"] == "15550100002"
    assert effects(second, "agent", "attachment")
    assert effects(step_with("path", "agent-brochure.pdf"), "customer", "document")
    assert effects(step_with("path", "agent-image.png"), "customer", "image")
    assert effects(step_with("path", "agent-reply.wav"), "customer", "audio")
    ended = step_with("action", "agent.end")
    assert effects(ended, "system", "chat.ended")
    after = step_of("after the end")
    assert effects(after, "system", "chat.started")
    assert effects(after, "agent", "message")
    kept_names = {path.name for path in result.kept}
    assert any(name.endswith(".wav") for name in kept_names)
    assert all(path.is_file() for path in result.kept)


def _console_script() -> str:
    script = Path(sys.executable).with_name("waconnect")
    if script.exists():
        return str(script)
    found = shutil.which("waconnect")
    assert found, "the waconnect console script is not installed"
    return found


def test_the_console_script_prints_json_lines_and_exits_1_on_a_rejected_step(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps(
            [
                {"action": "customer.text", "customer": ANA, "text": "Hi from the CLI"},
                {"action": "clock.advance", "seconds": "soon"},
            ]
        )
    )
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    completed = subprocess.run(
        [_console_script(), "replay", str(scenario)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp_path,
    )

    assert completed.returncode == 1, completed.stderr
    lines = [json.loads(text) for text in completed.stdout.splitlines()]
    assert any(
        (line["step"], line["to"], line.get("text")) == (0, "agent", "Hi from the CLI")
        for line in lines
    )
    assert lines[-1]["kind"] == "rejected"
    assert "field 'seconds': must be a number" in lines[-1]["reason"]


def test_the_console_script_exits_2_on_a_file_that_is_not_a_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text("not json at all")
    completed = subprocess.run(
        [_console_script(), "replay", str(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "not JSON" in completed.stderr


def test_pretty_lines_show_step_direction_kind_and_what_crossed() -> None:
    line = {
        "step": 3,
        "to": "agent",
        "kind": "attachment",
        "contact_id": "c-1",
        "attachment": "voice-note.wav",
        "content_type": "audio/wav",
        "size": 128044,
        "duration": 4.0,
    }

    text = pretty_line(line)

    assert text.split()[:4] == ["3", "→", "agent", "attachment"]
    for fragment in ("voice-note.wav", "audio/wav", "128,044 bytes", "4.0 s", "contact_id=c-1"):
        assert fragment in text
