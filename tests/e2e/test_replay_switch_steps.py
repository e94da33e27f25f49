"""The sandbox page's fault switches as scenario steps: slow calls, clearing faults, the scanner
rejecting a file, and Connect ending a chat itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA
from tests.e2e.test_replay_faults import _replay
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_controls import (
    EventsLost,
    FaultClear,
    FaultSlow,
    ScannerReject,
)
from waconnect.sandbox.scenario_steps import AgentTarget, ConnectEnd, Invalid


def test_switch_steps_are_read_with_their_defaults(tmp_path: Path) -> None:
    scenario = parse_steps(
        [
            {"action": "fault.slow", "operation": "SendMessage", "seconds": 3},
            {"action": "fault.clear"},
            {"action": "scanner.reject"},
            {"action": "scanner.reject", "count": 2},
            {"action": "connect.end", "contact_id": "b10877a9-cbf2-4734-ac10-35250b664028"},
            {"action": "events.lose"},
            {"action": "events.lose", "count": 3},
        ],
        base=tmp_path,
    )
    actions = [step.action for step in scenario.steps]
    assert actions[:4] == [
        FaultSlow(operation="SendMessage", seconds=3.0),
        FaultClear(),
        ScannerReject(count=1),
        ScannerReject(count=2),
    ]
    assert actions[5:] == [EventsLost(count=1), EventsLost(count=3)]
    assert isinstance(actions[4], ConnectEnd)
    assert isinstance(actions[4].target, AgentTarget)
    assert actions[4].target.contact_id == "b10877a9-cbf2-4734-ac10-35250b664028"


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        ({"action": "fault.slow", "operation": "SendMessage"}, "step 0: field 'seconds': required"),
        (
            {"action": "fault.slow", "operation": "SendMessage", "seconds": 121},
            "step 0: field 'seconds': must be between 0.001 and 120",
        ),
        (
            {"action": "fault.slow", "operation": "SendSms", "seconds": 1},
            "step 0: field 'operation': 'SendSms' is not an operation of the emulated services",
        ),
        (
            {"action": "scanner.reject", "count": 0},
            "step 0: field 'count': must be between 1 and 100",
        ),
        ({"action": "connect.end"}, "step 0: field 'customer'"),
        ({"action": "events.lose", "count": 0}, "step 0: field 'count': must be between 1 and 100"),
    ],
)
def test_a_malformed_switch_step_names_its_field(
    tmp_path: Path, step: dict[str, Any], reason: str
) -> None:
    [parsed] = parse_steps([step], base=tmp_path).steps
    assert isinstance(parsed.action, Invalid)
    assert parsed.action.reason.startswith(reason)


def test_a_slow_call_the_bridge_gave_up_on_took_effect_and_is_finished_after_the_clear(
    tmp_path: Path,
) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "fault.slow", "operation": "SendMessage", "seconds": 0.6},
            {"action": "customer.text", "customer": ANA, "text": "Slow one"},
            {"action": "fault.clear"},
            {"action": "customer.text", "customer": ANA, "text": "After"},
        ],
        environ={"WACONNECT_READ_TIMEOUT_SECONDS": "0.3"},
    )
    assert replayed.exit_code == 0, replayed.dump()
    # Connect has the message although the bridge stopped waiting for its answer (as on AWS)…
    assert [line["text"] for line in replayed.where(step=2, to="agent")] == ["Slow one"]
    # …so the customer's message is not marked read until a retry is answered: after the clear.
    assert replayed.where(step=2, to="customer") == []
    assert [line["kind"] for line in replayed.at(3)] == ["read"]
    # The retry carried the same ClientToken: the agent has each message once.
    texts = [line["text"] for line in replayed.where(to="agent", kind="message")]
    assert texts == ["Hello", "Slow one", "After"]


def test_a_file_the_scanner_rejects_never_reaches_the_customer_and_the_next_one_does(
    tmp_path: Path, media: Path
) -> None:
    brochure = str(media / "terms.pdf")
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Send me the brochure"},
            {"action": "scanner.reject"},
            {"action": "agent.file", "customer": ANA, "path": brochure},
            {"action": "agent.file", "customer": ANA, "path": brochure},
        ],
    )
    assert replayed.exit_code == 0, replayed.dump()
    [refused] = replayed.where(step=2, to="system")
    assert (refused["kind"], refused["reason"]) == ("ignored", "attachment rejected")
    assert replayed.where(step=2, to="customer") == []
    [sent] = replayed.where(step=3, to="customer")
    assert (sent["kind"], sent["attachment"]) == ("document", "terms.pdf")


def test_a_chat_connect_ends_itself_is_over_and_the_next_message_opens_another(
    tmp_path: Path,
) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "First"},
            {"action": "connect.end", "customer": ANA},
            {"action": "customer.text", "customer": ANA, "text": "Again"},
        ],
    )
    assert replayed.exit_code == 0, replayed.dump()
    first = replayed.one(step=0, kind="chat.started")["contact_id"]
    assert [(line["kind"], line["contact_id"]) for line in replayed.at(1)] == [
        ("chat.ended", first)
    ]
    second = replayed.one(step=2, kind="chat.started")["contact_id"]
    assert second != first
    assert replayed.one(step=2, to="agent", kind="message")["contact_id"] == second
