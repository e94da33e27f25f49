"""Raw SNS documents that are not traffic: a subscription handshake, and a broken envelope."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

EVENTS = Path(__file__).resolve().parents[1] / "events"


def _subscription_confirmation() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (EVENTS / "eum" / "subscription_confirmation.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.mark.parametrize("labelled", [False, True], ids=["bare", "labelled"])
def test_a_subscription_confirmation_is_routine_and_prints_nothing(
    play: Any, labelled: bool
) -> None:
    step: dict[str, Any] = {"payload": _subscription_confirmation()}
    if labelled:
        step["label"] = "handshake"

    replayed = play([step, {"action": "customer.text", "customer": "15550100001", "text": "Hi"}])

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.at(0) == []
    assert [line["kind"] for line in replayed.at(1) if line["to"] == "agent"] == ["message"]


def test_an_sns_envelope_with_a_broken_message_is_rejected_as_an_observation(play: Any) -> None:
    envelope = _subscription_confirmation() | {"Type": "Notification", "Message": "{not json"}

    replayed = play([{"payload": envelope}])

    assert replayed.exit_code == 0, replayed.dump()
    [line] = replayed.at(0)
    assert (line["to"], line["kind"]) == ("system", "rejected")
    assert "Message: not valid JSON" in line["reason"]
