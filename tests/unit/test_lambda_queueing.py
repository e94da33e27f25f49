"""What ``ingest`` and ``agent_ingest`` put on the FIFO queues, and the retry schedule."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.documents import connect_text, eum_texts

from waconnect.entrypoints.lambda_handlers.queueing import (
    QueueEntry,
    batches,
    connect_entries,
    read_body,
    whatsapp_entries,
)
from waconnect.entrypoints.lambda_handlers.schedule import (
    CRASH_ALLOWANCE,
    SQS_MAX_RECEIVE_COUNT,
    RetrySchedule,
)
from waconnect.errors import MalformedPayload


def sns(message: dict[str, Any], *, message_id: str = "sns-1", **attributes: str) -> dict[str, Any]:
    """A Lambda SNS record's ``Sns`` object carrying ``message``."""
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
        "Message": json.dumps(message),
        "MessageAttributes": {k: {"Type": "String", "Value": v} for k, v in attributes.items()},
    }


def test_each_customer_message_is_one_entry_deduplicated_by_its_wamid() -> None:
    ana = sns(eum_texts(("wamid.A1", "one"), ("wamid.A2", "two"), wa_id="15550100001", name="A"))

    entries, refused = whatsapp_entries(ana)

    assert refused == []
    assert [e.deduplication_id for e in entries] == ["wamid.A1", "wamid.A2"]
    assert [e.kind for e in entries] == ["text", "text"]
    assert len({e.group_id for e in entries}) == 1
    assert [read_body(e.body).item_id for e in entries] == ["wamid.A1", "wamid.A2"]
    assert read_body(entries[0].body).sns == ana


def test_customers_get_their_own_message_groups_without_their_numbers_in_them() -> None:
    ana, _ = whatsapp_entries(sns(eum_texts(("wamid.A", "hi"), wa_id="15550100001", name="A")))
    ben, _ = whatsapp_entries(sns(eum_texts(("wamid.B", "hi"), wa_id="15550100002", name="B")))

    assert ana[0].group_id != ben[0].group_id
    assert "15550100001" not in ana[0].group_id
    assert len(ana[0].group_id) <= 128


def test_a_wamid_too_long_for_sqs_is_hashed_into_a_deduplication_id() -> None:
    long_wamid = "wamid." + "A" * 200
    entries, _ = whatsapp_entries(sns(eum_texts((long_wamid, "x"), wa_id="1555", name="A")))

    assert len(entries[0].deduplication_id) <= 128
    assert read_body(entries[0].body).item_id == long_wamid


def test_a_malformed_notification_is_refused_with_its_path_and_queues_nothing() -> None:
    entries, refused = whatsapp_entries(sns({"whatsAppWebhookEntry": 7, "context": {}}))

    assert entries == []
    assert len(refused) == 1
    assert "whatsAppWebhookEntry" in refused[0].reason


def test_connect_events_are_grouped_by_initial_contact_and_deduplicated_by_sns_delivery() -> None:
    first = sns(
        connect_text("hello", contact_id="contact-1", event_id="item-1"),
        message_id="sns-a",
        ParticipantRole="AGENT",
        MessageVisibility="ALL",
    )
    again = sns(
        connect_text("hello", contact_id="contact-1", event_id="item-1"),
        message_id="sns-b",
        ParticipantRole="AGENT",
        MessageVisibility="ALL",
    )

    (one,), _ = connect_entries(first)
    (two,), _ = connect_entries(again)

    assert one.group_id == two.group_id
    assert one.deduplication_id != two.deduplication_id
    assert read_body(one.body).item == "event"
    assert read_body(one.body).item_id == "item-1"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ("not json", "body"),
        (json.dumps({"v": 99}), "v"),
        (json.dumps({"v": 1, "item": "parcel", "id": "x", "sns": {}}), "item"),
        (json.dumps({"v": 1, "item": "message", "id": 5, "sns": {}}), "id"),
    ],
)
def test_a_queue_body_not_written_by_ingest_is_malformed(body: str, path: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        read_body(body)
    assert caught.value.path == path


def test_entries_go_in_batches_of_ten_in_order() -> None:
    entries = [
        QueueEntry(group_id="g", deduplication_id=str(i), body="", kind="text") for i in range(23)
    ]

    sizes = [len(chunk) for chunk in batches(entries)]

    assert sizes == [10, 10, 3]
    assert [e.deduplication_id for chunk in batches(entries) for e in chunk] == [
        str(i) for i in range(23)
    ]


def test_retry_delays_double_up_to_the_maximum_and_stop_at_the_maximum_age() -> None:
    schedule = RetrySchedule(base_seconds=10, max_delay_seconds=60, max_age_seconds=300)

    assert [schedule.delay(n) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert schedule.next_delay(receive_count=1, age_seconds=0) == 10
    assert schedule.next_delay(receive_count=4, age_seconds=250) is None
    assert schedule.next_delay(receive_count=1, age_seconds=0, at_least=45.2) == 46


def test_max_receive_count_lets_a_waiting_message_reach_its_maximum_age() -> None:
    schedule = RetrySchedule(base_seconds=10, max_delay_seconds=900, max_age_seconds=24 * 3600)

    receives = schedule.receives_to_reach()
    waited = sum(schedule.delay(n) for n in range(1, receives - CRASH_ALLOWANCE + 1))

    assert waited >= 24 * 3600
    assert sum(schedule.delay(n) for n in range(1, receives - CRASH_ALLOWANCE)) < 24 * 3600
    assert RetrySchedule(base_seconds=0, max_delay_seconds=0).receives_to_reach() == (
        SQS_MAX_RECEIVE_COUNT
    )
