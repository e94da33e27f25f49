"""Fault and quota steps in scenarios, and the WACONNECT_* settings replay passes to its bridge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, BEN, Replayed
from waconnect.sandbox.replay import replay
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_controls import FaultDelay, FaultError, FaultThrottle
from waconnect.sandbox.scenario_steps import Invalid


def _replay(tmp_path: Path, steps: list[Any], **options: Any) -> Replayed:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(steps), encoding="utf-8")
    return Replayed(replay(path, **options))


def test_fault_steps_are_read_with_their_defaults(tmp_path: Path) -> None:
    scenario = parse_steps(
        [
            {"action": "fault.delay", "operation": "SendWhatsAppMessage", "seconds": 3},
            {"action": "fault.throttle", "operation": "SendMessage", "count": 4},
            {"action": "fault.error", "operation": "GetAttachment", "status": 503},
            {"action": "fault.error", "operation": "GetAttachment"},
        ],
        base=tmp_path,
    )
    assert [step.action for step in scenario.steps] == [
        FaultDelay(operation="SendWhatsAppMessage", seconds=3.0, count=1),
        FaultThrottle(operation="SendMessage", count=4),
        FaultError(operation="GetAttachment", status=503, count=1),
        FaultError(operation="GetAttachment", status=500, count=1),
    ]


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (
            {"action": "fault.throttle", "operation": "SendSms"},
            "step 0: field 'operation': 'SendSms' is not an operation of the emulated services",
        ),
        (
            {"action": "fault.error", "operation": "SendMessage", "status": 404},
            "step 0: field 'status': must be between 500 and 599",
        ),
        (
            {"action": "fault.delay", "operation": "SendMessage", "seconds": 0},
            "step 0: field 'seconds': must be between 0.001 and 120",
        ),
        (
            {"action": "fault.delay", "operation": "SendMessage"},
            "step 0: field 'seconds': required",
        ),
        (
            {"action": "fault.throttle", "operation": "SendMessage", "count": 0},
            "step 0: field 'count': must be between 1 and 100",
        ),
        (
            {"action": "bridge.crash", "operation": "SendMessage"},
            "step 0: field 'at': required",
        ),
        (
            {"action": "connect.quota", "active_chats": -1},
            "step 0: field 'active_chats': must be between 0 and 100000",
        ),
    ],
)
def test_a_malformed_fault_step_names_its_field(
    tmp_path: Path, step: dict[str, Any], reason: str
) -> None:
    [parsed] = parse_steps([step], base=tmp_path).steps
    assert isinstance(parsed.action, Invalid)
    assert parsed.action.reason.startswith(reason)


def test_a_throttled_agent_text_reaches_the_customer_once(tmp_path: Path) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "fault.throttle", "operation": "SendWhatsAppMessage", "count": 2},
            {"action": "agent.text", "customer": ANA, "text": "Hi Ana"},
        ],
    )
    assert replayed.exit_code == 0
    assert [line["text"] for line in replayed.where(to="customer", kind="text")] == ["Hi Ana"]
    assert replayed.at(1) == []  # arming a fault is not itself an effect


def test_a_failing_download_of_the_customers_media_is_retried(tmp_path: Path, media: Path) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "fault.error", "operation": "GetWhatsAppMessageMedia", "status": 500},
            {"action": "customer.file", "customer": ANA, "path": str(media / "photo.jpg")},
        ],
    )
    assert replayed.exit_code == 0
    assert len(replayed.where(to="agent", kind="attachment")) == 1


def test_past_the_quota_step_a_new_customer_gets_no_chat(tmp_path: Path) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "connect.quota", "active_chats": 1},
            {"action": "customer.text", "customer": ANA, "text": "first"},
            {"action": "customer.text", "customer": BEN, "text": "second"},
        ],
    )
    started = replayed.where(kind="chat.started")
    assert [line["customer"] for line in started] == [ANA]
    assert replayed.where(to="agent", kind="message", text="second") == []


def test_replay_honours_the_bridges_settings_from_the_environment(tmp_path: Path) -> None:
    steps = [{"action": "customer.text", "customer": ANA, "text": "Hello"}]
    default = _replay(tmp_path, steps, environ={})
    quiet = _replay(
        tmp_path,
        steps,
        # The wiring stays the sandbox's: a state or endpoint from the environment is ignored.
        environ={
            "WACONNECT_MARK_READ": "false",
            "WACONNECT_STATE": "/nonexistent/state.sqlite",
            "WACONNECT_ENDPOINT_URL": "https://example.invalid",
        },
    )
    assert len(default.where(kind="read")) == 1
    assert quiet.where(kind="read") == []
    assert quiet.exit_code == 0
    assert quiet.where(to="agent", kind="message", text="Hello")


def test_a_bad_setting_stops_the_replay_before_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps([{"action": "customer.text", "customer": ANA, "text": "Hi"}]))
    result = replay(path, environ={"WACONNECT_CHAT_DURATION_MINUTES": "5"})
    assert result.exit_code == 2
    assert "WACONNECT_CHAT_DURATION_MINUTES: must be 60-10080" in result.problem
    assert result.lines == ()
