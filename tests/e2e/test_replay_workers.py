"""Bridges in real child processes: round-robin workers on one state, and SIGKILL mid-call."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ANA, BEN, REPO
from waconnect.sandbox import defaults
from waconnect.sandbox.bridge_workers import Exit
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner
from waconnect.sandbox.server import CallRecord

KILLED = -signal.SIGKILL


@dataclass(frozen=True)
class Run:
    lines: list[dict[str, Any]]
    calls: list[CallRecord]
    exits: list[Exit]
    failed: bool
    deliveries: Counter[str]

    def where(self, **fields: Any) -> list[dict[str, Any]]:
        return [line for line in self.lines if all(line.get(k) == v for k, v in fields.items())]


def run(steps: list[Any], base: Path, *, workers: int) -> Run:
    scenario = parse_steps(steps, base=base)
    lines: list[dict[str, Any]] = []
    with ScenarioRunner(seed=defaults.SEED, emit=lines.append, workers=workers) as runner:
        for step in scenario.steps:
            runner.run_step(step)
        calls = runner.cloud.dispatcher.calls
        pool = runner.pool
        failed = runner.any_step_failed
    return Run(
        lines=lines,
        calls=calls,
        exits=list(pool.exits),
        failed=failed,
        deliveries=Counter(pool.deliveries),
    )


def test_a_crash_kills_the_bridge_process_with_sigkill_after_the_call_ran(tmp_path: Path) -> None:
    done = run(
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "bridge.crash", "at": "SendMessage"},
            {"action": "customer.text", "customer": ANA, "text": "Are you there?"},
            {"action": "customer.text", "customer": ANA, "text": "Still here"},
        ],
        tmp_path,
        workers=1,
    )
    # The first worker died by SIGKILL; its successor was stopped cleanly at the end.
    assert done.exits == [Exit("bridge-1", KILLED), Exit("bridge-2", 0)]
    callers = [call.caller for call in done.calls if call.operation == "SendMessage"]
    # Everything after the crash was sent by the fresh process.
    assert callers[:2] == ["bridge-1", "bridge-1"]
    assert set(callers[2:]) == {"bridge-2"}
    # The crash came after Connect stored the message: it is in the chat, once.
    texts = [line["text"] for line in done.where(to="agent", kind="message")]
    assert texts.count("Are you there?") == 1
    assert texts[-1] == "Still here"


def test_deliveries_go_round_robin_so_every_worker_gets_work(tmp_path: Path) -> None:
    done = run(
        [
            {
                "concurrently": [
                    {"action": "customer.text", "customer": ANA, "text": "from Ana"},
                    {"action": "customer.text", "customer": BEN, "text": "from Ben"},
                ]
            }
        ],
        tmp_path,
        workers=2,
    )
    # Connect's streaming events of the new chats are deliveries too, and may take their turn
    # between the two customers' notifications: which worker starts which chat follows timing,
    # but each worker gets every other delivery.
    assert set(done.deliveries) == {"bridge-1", "bridge-2"}
    assert abs(done.deliveries["bridge-1"] - done.deliveries["bridge-2"]) <= 1
    starts = [call.caller for call in done.calls if call.operation == "StartChatContact"]
    assert len(starts) == 2
    assert done.exits == [Exit("bridge-1", 0), Exit("bridge-2", 0)]
    assert not done.failed


def test_the_command_with_workers_prints_what_the_bridge_in_process_prints(
    tmp_path: Path, media: Path
) -> None:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(
        json.dumps(
            [
                {"action": "customer.text", "customer": ANA, "name": "Ana", "text": "Hello"},
                {"action": "customer.file", "customer": ANA, "path": str(media / "photo.jpg")},
                {"action": "agent.text", "customer": ANA, "text": "Thanks!"},
                {"action": "customer.text", "customer": BEN, "text": "Me too"},
                {"action": "agent.end", "customer": ANA},
            ]
        )
    )

    def replay(*options: str) -> bytes:
        done = subprocess.run(
            [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", *options, scenario],
            capture_output=True,
            check=False,
            cwd=REPO,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    assert replay("--workers", "2") == replay()


def test_the_command_refuses_a_number_of_workers_it_cannot_run(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "waconnect.entrypoints.cli", "replay", "--workers", "0", "x.json"],
        capture_output=True,
        check=False,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers: must be between 1 and 16" in done.stderr.decode()
