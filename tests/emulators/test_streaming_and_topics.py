from __future__ import annotations

import json
import threading
import time

import pytest

from tests.emulators.conftest import WAIT_SECONDS, Chat
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.topics import Topic

ARN = "arn:aws:sns:us-east-1:123456789012:test-topic"


def _attributes(envelope: dict[str, object]) -> dict[str, str]:
    raw = envelope["MessageAttributes"]
    assert isinstance(raw, dict)
    return {name: value["Value"] for name, value in raw.items()}


def test_customer_message_is_echoed_with_role_customer(chat: Chat) -> None:
    chat.participant.send_message(
        ConnectionToken=chat.connection_token,
        ContentType="text/plain",
        Content="my own words",
        ClientToken="echo",
    )
    echoes = [e for e in chat.envelopes() if e["Message"].get("Content") == "my own words"]
    assert len(echoes) == 1
    assert echoes[0]["Message"]["ParticipantRole"] == "CUSTOMER"
    assert _attributes(echoes[0])["ParticipantRole"] == "CUSTOMER"


def test_agent_message_is_published_with_every_message_attribute(chat: Chat) -> None:
    message_id = chat.cloud.agent_sends_text(chat.contact_id, "Hello from the agent")
    published = [e for e in chat.envelopes() if e["Message"].get("Id") == message_id]
    assert len(published) == 1
    envelope = published[0]
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == defaults.STREAMING_TOPIC_ARN
    assert envelope["Message"]["Content"] == "Hello from the agent"
    assert _attributes(envelope) == {
        "InitialContactId": chat.contact_id,
        "ContactId": chat.contact_id,
        "ParticipantRole": "AGENT",
        "InstanceId": defaults.INSTANCE_ID,
        "AccountId": defaults.ACCOUNT_ID,
        "Type": "MESSAGE",
        "ContentType": "text/plain",
        "MessageVisibility": "ALL",
    }


def test_end_chat_streams_agent_left_then_chat_ended(chat: Chat) -> None:
    chat.cloud.end_chat(chat.contact_id)
    kinds = [e["Message"]["ContentType"] for e in chat.envelopes()][-2:]
    assert kinds == [
        "application/vnd.amazonaws.connect.event.participant.left",
        "application/vnd.amazonaws.connect.event.chat.ended",
    ]


def test_topic_delivers_in_publish_order_on_one_worker() -> None:
    topic = Topic(ARN)
    received: list[int] = []
    threads: set[str] = set()

    def subscriber(text: str) -> None:
        threads.add(threading.current_thread().name)
        received.append(json.loads(json.loads(text)["Message"])["n"])

    topic.subscribe(subscriber)
    for n in range(50):
        topic.publish({"n": n})
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()
    assert received == list(range(50))
    assert len(threads) == 1


def test_topic_with_several_workers_delivers_concurrently() -> None:
    topic = Topic(ARN, workers=2)
    # Each delivery waits for the other one to be running: only overlapping deliveries pass.
    both_running = threading.Barrier(2, timeout=WAIT_SECONDS)
    topic.subscribe(lambda _text: both_running.wait() and None)
    topic.publish({"n": 1})
    topic.publish({"n": 2})
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()
    assert (topic.errors, len(topic.delivered)) == ([], 2)


def test_one_worker_never_overlaps_deliveries() -> None:
    topic = Topic(ARN)
    both_running = threading.Barrier(2, timeout=0.2)
    topic.subscribe(lambda _text: both_running.wait() and None)
    topic.publish({"n": 1})
    topic.publish({"n": 2})
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()
    assert [type(error) for error in topic.errors] == [threading.BrokenBarrierError] * 2


def test_wait_idle_waits_for_every_in_flight_delivery() -> None:
    topic = Topic(ARN, workers=3)
    started = threading.Semaphore(0)
    release = threading.Event()

    def slow(_text: str) -> None:
        started.release()
        release.wait(WAIT_SECONDS)

    topic.subscribe(slow)
    for n in range(3):
        topic.publish({"n": n})
    for _ in range(3):
        assert started.acquire(timeout=WAIT_SECONDS)
    # Every message was taken off the queue and is being delivered: still not idle.
    assert not topic.wait_idle(0.05)
    assert not topic.idle
    release.set()
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()
    assert len(topic.delivered) == 3


def test_cloud_inbound_topic_is_concurrent_and_streaming_ordered(fresh_cloud: Cloud) -> None:
    assert fresh_cloud.inbound_topic.workers > 1
    assert fresh_cloud.streaming_topic.workers == 1


def test_settle_waits_for_concurrent_inbound_deliveries(fresh_cloud: Cloud) -> None:
    finished: list[int] = []
    lock = threading.Lock()

    def slow(text: str) -> None:
        time.sleep(0.2)
        with lock:
            finished.append(json.loads(json.loads(text)["Message"])["n"])

    fresh_cloud.inbound_topic.subscribe(slow)
    for n in range(4):
        fresh_cloud.inbound_topic.publish({"n": n})
    assert fresh_cloud.settle(WAIT_SECONDS)
    assert sorted(finished) == [0, 1, 2, 3]


def test_failing_subscriber_is_recorded_and_delivery_goes_on() -> None:
    topic = Topic(ARN)
    received: list[str] = []

    def broken(_text: str) -> None:
        raise RuntimeError("subscriber bug")

    topic.subscribe(broken)
    topic.subscribe(received.append)
    topic.publish({"n": 1})
    topic.publish({"n": 2})
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()
    assert len(received) == 2
    assert [str(error) for error in topic.errors] == ["subscriber bug"] * 2


def test_publish_does_not_wait_for_a_slow_subscriber() -> None:
    topic = Topic(ARN)
    release = threading.Event()
    topic.subscribe(lambda _text: release.wait(WAIT_SECONDS) and None)
    topic.publish({"n": 1})
    assert not topic.wait_idle(0.05)
    release.set()
    assert topic.wait_idle(WAIT_SECONDS)
    topic.close()


def test_a_non_sns_arn_is_not_a_topic() -> None:
    with pytest.raises(ValueError, match="SNS"):
        Topic("arn:aws:sqs:us-east-1:123456789012:queue")


def test_settle_waits_for_cascading_deliveries(fresh_cloud: Cloud) -> None:
    seen: list[str] = []

    def bounce(text: str) -> None:
        # A subscriber reacting to one topic by publishing on another, like the bridge does.
        seen.append(text)
        if len(seen) < 5:
            fresh_cloud.streaming_topic.publish({"again": len(seen)})

    fresh_cloud.inbound_topic.subscribe(bounce)
    fresh_cloud.streaming_topic.subscribe(bounce)
    fresh_cloud.inbound_topic.publish({"start": True})
    assert fresh_cloud.settle(WAIT_SECONDS)
    assert len(seen) == 5
