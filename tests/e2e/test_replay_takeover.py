"""A bridge process killed at any call of a message: a fresh one finishes it, exactly once.

The calls are not listed by hand: a first replay records every emulated call the message causes,
then each call is replayed with the bridge killed by SIGKILL right after the emulator ran it.
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA
from tests.e2e.test_replay_workers import Run, run

KILLED = -signal.SIGKILL


def _message(kind: str, media: Path) -> dict[str, Any]:
    if kind == "text":
        return {"action": "customer.text", "customer": ANA, "text": "Where is my order?"}
    if kind == "file":
        return {
            "action": "customer.file",
            "customer": ANA,
            "path": str(media / "terms.pdf"),
            "caption": "Signed",
        }
    return {"action": "customer.voice", "customer": ANA, "path": str(media / "voice.ogg")}


def _reached_agent(done: Run) -> list[str]:
    """What reached the agent's chat for the message: texts and file names."""
    return [
        line.get("text") or line.get("attachment", "")
        for line in done.lines
        if line["to"] == "agent" and line["kind"] in ("message", "attachment")
    ]


def _calls_of(done: Run) -> list[tuple[str, int]]:
    """Each call the message caused, as (operation, how many of it came before, plus one)."""
    seen: Counter[str] = Counter()
    calls = []
    for call in done.calls:
        seen[call.operation] += 1
        calls.append((call.operation, seen[call.operation]))
    return calls


@pytest.mark.parametrize("kind", ["text", "file", "voice"])
def test_a_crash_at_each_call_of_a_message_still_delivers_it_once(
    kind: str, media: Path, tmp_path: Path
) -> None:
    message = _message(kind, media)
    healthy = run([message], tmp_path, workers=1)
    expected = _reached_agent(healthy)
    assert expected, "the message reached the agent without a crash"
    calls = _calls_of(healthy)
    assert len(calls) >= 4

    wrong: list[str] = []
    for operation, nth in calls:
        crashed = run(
            [{"action": "bridge.crash", "at": operation, "nth": nth}, message], tmp_path, workers=1
        )
        where = f"crash at {operation} #{nth}"
        assert crashed.exits[0].exitcode == KILLED, where
        delivered_once = (
            _reached_agent(crashed) == expected
            and len(crashed.where(kind="chat.started")) == 1
            and not crashed.failed
        )
        if not delivered_once:
            wrong.append(where)
    assert wrong == []
