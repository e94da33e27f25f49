"""Chats outlive tokens, ended chats give way to new ones, and nothing is lost or doubled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, connect_notification, eum_notification, sha256_of

pytestmark = pytest.mark.slow

WAMID = "wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQUZBS0UwMDAwMDAwMDAwMDAwMDEA"


def test_an_expired_connection_token_is_refreshed_and_the_same_chat_goes_on(play: Any) -> None:
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "Before"},
            {"action": "token.expire", "customer": ANA},
            {"action": "customer.text", "customer": ANA, "text": "After"},
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    contact_id = replayed.one(step=0, kind="chat.started")["contact_id"]
    assert replayed.where(step=2, kind="chat.started") == []
    assert replayed.one(step=2, kind="connection.refreshed")["contact_id"] == contact_id
    after = replayed.one(step=2, to="agent", kind="message")
    assert (after["text"], after["contact_id"]) == ("After", contact_id)


def test_a_message_after_the_agent_ended_the_chat_opens_a_new_one_and_is_delivered(
    play: Any,
) -> None:
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "Hello"},
            {"action": "agent.end", "customer": ANA},
            {"action": "customer.text", "customer": ANA, "text": "One more thing"},
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    first = replayed.one(step=0, kind="chat.started")["contact_id"]
    assert replayed.one(step=1, kind="chat.ended")["contact_id"] == first
    second = replayed.one(step=2, kind="chat.started")["contact_id"]
    assert second != first
    delivered = replayed.one(step=2, to="agent", kind="message")
    assert (delivered["text"], delivered["contact_id"]) == ("One more thing", second)


def test_a_text_sent_three_times_with_one_wamid_reaches_the_agent_once(play: Any) -> None:
    replayed = play([{"action": "customer.text", "customer": ANA, "text": "Once", "repeat": 3}])

    assert replayed.exit_code == 0, replayed.dump()
    assert len(replayed.where(to="agent", kind="message", text="Once")) == 1
    assert len(replayed.where(kind="chat.started")) == 1
    assert len(replayed.where(to="customer", kind="read")) == 1


def test_a_text_sent_three_times_at_once_reaches_the_agent_once(play: Any) -> None:
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "Warm up"},
            {"concurrently": [
                {"action": "customer.text", "customer": ANA, "text": "Racing", "repeat": 3}
            ]},
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    assert len(replayed.where(step=1, to="agent", kind="message", text="Racing")) == 1
    assert len(replayed.where(step=1, to="customer", kind="read")) == 1


def test_a_raw_image_notification_delivered_three_times_attaches_one_file(
    play: Any, media: Path
) -> None:
    photo = media / "photo.jpg"
    notification = eum_notification(
        {"id": WAMID, "type": "image",
         "image": {"id": "1001000000000001", "mime_type": "image/jpeg", "sha256": "ignored"}}
    )  # fmt: skip
    replayed = play(
        [{"payload": notification, "media": {"1001000000000001": str(photo)}, "repeat": 3}]
    )

    assert replayed.exit_code == 0, replayed.dump()
    [attachment] = replayed.where(to="agent", kind="attachment")
    assert attachment["sha256"] == sha256_of(photo)
    assert len(replayed.where(kind="chat.started")) == 1
    assert len(replayed.where(to="customer", kind="reaction")) == 1


def test_a_raw_notification_delivered_three_times_at_once_has_one_effect(play: Any) -> None:
    notification = eum_notification({"id": WAMID, "type": "text", "text": {"body": "Raced thrice"}})
    replayed = play([{"concurrently": [{"payload": notification}] * 3}])

    assert replayed.exit_code == 0, replayed.dump()
    assert len(replayed.where(to="agent", kind="message", text="Raced thrice")) == 1
    assert len(replayed.where(kind="chat.started")) == 1
    assert len(replayed.where(to="customer", kind="read")) == 1


def test_two_customers_writing_at_once_each_get_their_own_chat(play: Any) -> None:
    replayed = play(
        [
            {"concurrently": [
                {"action": "customer.text", "customer": ANA, "text": "From Ana"},
                {"action": "customer.text", "customer": "15550100002", "text": "From Ben"},
            ]},
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    started = {line["customer"]: line["contact_id"] for line in replayed.where(kind="chat.started")}
    assert set(started) == {ANA, "15550100002"}
    assert replayed.one(to="agent", text="From Ana")["contact_id"] == started[ANA]
    assert replayed.one(to="agent", text="From Ben")["contact_id"] == started["15550100002"]


def test_an_agent_message_notified_three_times_reaches_the_customer_once(play: Any) -> None:
    opening = {"action": "customer.text", "customer": ANA, "text": "Hello"}
    # Ids repeat with the seed, so a first run tells which contact id the second one will mint.
    contact_id = play([opening]).one(kind="chat.started")["contact_id"]
    notification = connect_notification(
        contact_id=contact_id,
        content="Said once, notified thrice",
        event_id="cccccccc-0000-4000-8000-00000000beef",
    )
    replayed = play(
        [
            opening,
            {"payload": notification, "repeat": 3},
            {"concurrently": [{"payload": notification}] * 3},
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    assert replayed.one(kind="chat.started")["contact_id"] == contact_id
    sent = replayed.where(to="customer", kind="text")
    assert [line["text"] for line in sent] == ["Said once, notified thrice"]
    assert sent[0]["step"] == 1
