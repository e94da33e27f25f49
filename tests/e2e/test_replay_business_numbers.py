"""A raw Meta webhook body for a business number the sandbox does not know registers it.

Production's bridge answers only from the numbers its settings map (tests/unit/test_intake.py);
the sandbox's bridge follows the emulated WhatsApp's numbers, which learn such a body's number
as End User Messaging would know it, in process, in worker processes and through Lambda.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA
from waconnect.sandbox import defaults
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner

pytestmark = pytest.mark.slow

OTHER_NUMBER = "100000000000077"
OTHER_DISPLAY = "15550009977"


def other_number_body(message: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": OTHER_DISPLAY, "phone_number_id": OTHER_NUMBER},
        "contacts": [{"profile": {"name": "Ana"}, "wa_id": ANA}],
        "messages": [{"from": ANA, "timestamp": "1768469400", **message}],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": defaults.WABA_ID, "changes": [{"field": "messages", "value": value}]}],
    }


@pytest.mark.parametrize("bridge", ["in process", "worker process", "lambda"])
def test_a_meta_body_for_an_unknown_number_reaches_a_chat_and_is_answered_from_it(
    bridge: str, media: Path
) -> None:
    steps: list[dict[str, Any]] = [
        other_number_body({"id": "wamid.OTHER.1", "type": "text", "text": {"body": "Hi there"}}),
        {"action": "agent.text", "customer": ANA, "text": "Hello from the other shop"},
        {
            "payload": other_number_body(
                {"id": "wamid.OTHER.2", "type": "image", "image": {"id": "9001"}}
            ),
            "media": {"9001": "photo.jpg"},
        },
    ]
    lines: list[dict[str, Any]] = []
    with ScenarioRunner(
        seed=1,
        emit=lines.append,
        workers=1 if bridge == "worker process" else 0,
        through_lambda=bridge == "lambda",
    ) as runner:
        for step in parse_steps(steps, base=media).steps:
            runner.run_step(step)
        whatsapp = runner.cloud.whatsapp_view
        sends = whatsapp.sends()
        numbers = {number.meta_id: number for number in whatsapp.numbers()}

    def at(step: int, **fields: Any) -> list[dict[str, Any]]:
        return [
            line
            for line in lines
            if line["step"] == step and all(line.get(k) == v for k, v in fields.items())
        ]

    assert [line for line in lines if line["kind"] in ("failed", "rejected")] == []
    assert at(0, kind="chat.started")
    assert [line["text"] for line in at(0, to="agent", kind="message")] == ["Hi there"]
    assert [line["text"] for line in at(1, to="customer", kind="text")] == [
        "Hello from the other shop"
    ]
    # The customer's photo, held by WhatsApp for the number it was sent to, reached the agent.
    assert [line["content_type"] for line in at(2, to="agent", kind="attachment")] == ["image/jpeg"]
    # Every send (read marks, the agent's text, the file's reaction) went from that number.
    assert sends
    assert {send.business for send in sends} == {OTHER_NUMBER}
    assert [send.kind for send in sends if send.kind == "text"] == ["text"]
    assert numbers[OTHER_NUMBER].display == OTHER_DISPLAY
    assert numbers[defaults.META_PHONE_NUMBER_ID].aws_id == defaults.AWS_PHONE_NUMBER_ID
