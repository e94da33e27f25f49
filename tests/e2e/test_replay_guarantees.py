"""The delivery guarantees, each reproduced by a scenario (docs/architecture.md names them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ANA, Replayed
from tests.e2e.test_replay_workers import run
from waconnect.sandbox.replay import replay

DAY = 24 * 3600


def _replay(tmp_path: Path, steps: list[Any], **options: Any) -> Replayed:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(steps), encoding="utf-8")
    return Replayed(replay(path, **options))


def _customer(index: int) -> str:
    return f"1555030{index:04d}"


def test_a_send_slower_than_the_read_timeout_reaches_the_phone_at_most_twice(
    tmp_path: Path,
) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "fault.delay", "operation": "SendWhatsAppMessage", "seconds": 2.5},
            {"action": "agent.text", "customer": ANA, "text": "Your order ships today"},
        ],
        environ={"WACONNECT_READ_TIMEOUT_SECONDS": "1"},
    )
    copies = replayed.where(to="customer", kind="text", text="Your order ships today")
    assert 1 <= len(copies) <= 2, replayed.dump()


def test_a_throttled_send_reaches_the_phone_exactly_once(tmp_path: Path) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "fault.throttle", "operation": "SendWhatsAppMessage", "count": 3},
            {"action": "agent.text", "customer": ANA, "text": "Your order ships today"},
        ],
    )
    copies = replayed.where(to="customer", kind="text", text="Your order ships today")
    assert len(copies) == 1, replayed.dump()
    assert replayed.exit_code == 0


def test_two_workers_open_one_chat_per_customer(tmp_path: Path) -> None:
    customers = [_customer(i) for i in range(8)]
    # Each customer's first two messages arrive at once, at two different bridge processes.
    steps = [
        {
            "concurrently": [
                {"action": "customer.text", "customer": customer, "text": f"{customer} one"},
                {"action": "customer.text", "customer": customer, "text": f"{customer} two"},
            ]
        }
        for customer in customers
    ]
    done = run(steps, tmp_path, workers=2)

    started = Counter(line["customer"] for line in done.where(kind="chat.started"))
    assert started == dict.fromkeys(customers, 1)
    chats = {line["customer"]: line["contact_id"] for line in done.where(kind="chat.started")}
    for customer in customers:
        texts = sorted(
            line["text"]
            for line in done.where(to="agent", kind="message", contact_id=chats[customer])
        )
        assert texts == [f"{customer} one", f"{customer} two"]
    # Which process wins each customer's race is up to timing (the loser defers, and its message
    # is handed in again); deliveries reaching both processes is shown in test_replay_workers.
    callers = {call.caller for call in done.calls if call.operation == "SendMessage"}
    assert callers
    assert callers <= {"bridge-1", "bridge-2"}
    assert not done.failed


def test_customers_past_the_chat_quota_wait_and_each_reaches_a_chat_once(tmp_path: Path) -> None:
    first, second, third, fourth = (_customer(i) for i in range(4))
    replayed = _replay(
        tmp_path,
        [
            {"action": "connect.quota", "active_chats": 2},
            *(
                {"action": "customer.text", "customer": customer, "text": f"hello from {customer}"}
                for customer in (first, second, third, fourth)
            ),
            {"action": "agent.end", "customer": first},
            {"action": "agent.end", "customer": second},
        ],
    )
    started = [line["customer"] for line in replayed.where(kind="chat.started")]
    assert sorted(started) == sorted([first, second, third, fourth]), replayed.dump()
    for customer in (first, second, third, fourth):
        found = replayed.where(to="agent", kind="message", text=f"hello from {customer}")
        assert len(found) == 1, replayed.dump()
    assert not replayed.where(kind="failed")


def test_a_message_sent_after_a_chat_frees_up_reaches_the_agent_after_the_waiting_one(
    tmp_path: Path,
) -> None:
    first, second = _customer(0), _customer(1)
    replayed = _replay(
        tmp_path,
        [
            {"action": "connect.quota", "active_chats": 1},
            {"action": "customer.text", "customer": first, "text": "hello"},
            {"action": "customer.text", "customer": second, "text": "one, while chats are full"},
            # A chat frees up; the waiting message's retry time has not come yet...
            {"action": "agent.end", "customer": first, "retries": "later"},
            # ...when the same customer writes again.
            {"action": "customer.text", "customer": second, "text": "two, after a chat freed"},
        ],
    )
    [chat] = replayed.where(kind="chat.started", customer=second)
    seen = [line["text"] for line in replayed.where(to="agent", contact_id=chat["contact_id"])]
    assert seen == ["one, while chats are full", "two, after a chat freed"], replayed.dump()
    assert not replayed.where(kind="failed")


def test_an_agent_reply_outside_the_24_hour_window_is_reported_in_the_agents_chat(
    tmp_path: Path,
) -> None:
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "clock.advance", "seconds": DAY + 60},
            {"action": "agent.text", "customer": ANA, "text": "Sorry for the wait"},
        ],
    )
    notices = [line for line in replayed.at(2) if line["to"] == "agent"]
    assert len(notices) == 1, replayed.dump()
    assert "Sorry for the wait" in notices[0]["text"]


def test_a_phone_customer_who_gains_a_bsuid_keeps_one_chat(tmp_path: Path) -> None:
    both = {"wa_id": ANA, "user_id": "US.13491208655302741918"}
    replayed = _replay(
        tmp_path,
        [
            {"action": "customer.text", "customer": ANA, "text": "by number"},
            {"action": "customer.text", "customer": both, "text": "by both"},
            {"action": "customer.text", "customer": ANA, "text": "by number again"},
            {"action": "agent.text", "customer": ANA, "text": "One chat"},
        ],
    )
    assert len(replayed.where(kind="chat.started")) == 1, replayed.dump()
    texts = [line["text"] for line in replayed.where(to="agent", kind="message")]
    assert texts == ["by number", "by both", "by number again"]
    assert len(replayed.where(to="customer", kind="text", text="One chat")) == 1
