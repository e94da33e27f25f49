"""The entry functions: parsing at the door, per-customer order, retries, and the keyed lock."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from tests.documents import connect_text, eum_texts
from tests.fakes import FakeClock
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.outgoing import OutgoingReaction, OutgoingText
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.entrypoints.keyed_lock import KeyedLock
from waconnect.errors import TransientError

EVENTS = Path(__file__).resolve().parent.parent / "events"
# How long threads may take to meet or finish before the test fails: the machine may be busy.
WAIT_SECONDS = 60.0


class World(Ports):
    def __init__(self, *, attempts: int = 3) -> None:
        super().__init__()
        self.sleeps: list[float] = []
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=attempts, delay=0.1),
            sleep=self.sleeps.append,
        )


def eum_text(body: str, *, wamid: str, wa_id: str = "15550100001") -> dict[str, Any]:
    return eum_texts((wamid, body), wa_id=wa_id, name="Test")


def test_eum_document_reaches_the_agent() -> None:
    world = World()

    [outcome] = world.bridge.handle_whatsapp_document(eum_text("Hello!", wamid="wamid.T1"))

    assert (outcome.kind, outcome.wamid) == ("delivered", "wamid.T1")
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["Hello!"]


def test_json_text_and_bytes_are_accepted_like_mappings() -> None:
    world = World()
    document = json.dumps(eum_text("as text", wamid="wamid.T2"))

    as_text = world.bridge.handle_document(document)
    as_bytes = world.bridge.handle_document(document.encode("utf-8"))

    assert [o.kind for o in as_text + as_bytes] == ["delivered", "duplicate"]


def test_captured_fixture_is_dispatched_by_its_shape() -> None:
    world = World()
    document = json.loads((EVENTS / "eum" / "text.json").read_text(encoding="utf-8"))

    [outcome] = world.bridge.handle_document(document)

    assert outcome.kind == "delivered"


def test_malformed_document_is_rejected_with_source_and_path_never_raised() -> None:
    world = World()
    document = {"whatsAppWebhookEntry": 42, "context": {}}

    [outcome] = world.bridge.handle_whatsapp_document(document)
    [garbage] = world.bridge.handle_document(b"{not json")

    assert outcome.kind == "rejected"
    assert "whatsAppWebhookEntry" in outcome.reason
    assert garbage.kind == "rejected"
    assert world.connect.chats == {}


def test_connect_document_reaches_the_customer() -> None:
    world = World()
    world.bridge.handle_whatsapp_document(eum_text("Hi", wamid="wamid.T3"))
    [chat] = world.connect.chats.values()

    [outcome] = world.bridge.handle_document(
        connect_text("Hello Ana", contact_id=chat.contact_id, event_id="event-1")
    )

    assert outcome.kind == "delivered"
    assert "Hello Ana" in world.whatsapp.texts()


def test_unknown_contact_in_a_connect_document_is_ignored() -> None:
    world = World()

    [outcome] = world.bridge.handle_connect_document(
        connect_text("Hello", contact_id="contact-nobody", event_id="event-2")
    )

    assert outcome.kind == "ignored"


def test_transient_failure_is_retried_with_backoff_and_delivered_once() -> None:
    world = World(attempts=3)
    world.connect.fail_next(TransientError("throttled"), operation="send_message", times=2)

    [outcome] = world.bridge.handle_whatsapp_document(eum_text("persist", wamid="wamid.T4"))

    assert outcome.kind == "delivered"
    assert world.sleeps == [0.1, 0.2]
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["persist"]


def test_transient_failures_past_the_budget_fail_and_tell_the_customer() -> None:
    world = World(attempts=2)
    world.connect.fail_next(TransientError("throttled"), operation="send_message", times=2)

    [outcome] = world.bridge.handle_whatsapp_document(eum_text("doomed", wamid="wamid.T5"))

    assert outcome.kind == "failed"
    sent = [m for _, m in world.whatsapp.sent]
    assert any(isinstance(m, OutgoingReaction) and m.emoji == "❌" for m in sent)
    assert any(isinstance(m, OutgoingText) and m.reply_to == "wamid.T5" for m in sent)


def test_one_customers_concurrent_documents_share_one_chat_and_lose_nothing() -> None:
    world = World()
    documents = [eum_text(f"m{i}", wamid=f"wamid.C{i}") for i in range(12)]
    barrier = threading.Barrier(len(documents))

    def post(document: dict[str, Any]) -> None:
        barrier.wait(timeout=WAIT_SECONDS)
        world.bridge.handle_whatsapp_document(document)

    threads = [threading.Thread(target=post, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive()

    [chat] = world.connect.chats.values()
    assert sorted(chat.messages()) == sorted(f"m{i}" for i in range(12))


def test_each_customers_messages_keep_their_order_while_customers_interleave() -> None:
    world = World()
    customers = ["15550100011", "15550100012", "15550100013"]

    def customer_writes(wa_id: str) -> None:
        for i in range(10):
            world.bridge.handle_whatsapp_document(
                eum_text(f"{wa_id}-{i}", wamid=f"wamid.{wa_id}.{i}", wa_id=wa_id)
            )

    threads = [threading.Thread(target=customer_writes, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive()

    assert len(world.connect.chats) == 3
    for chat in world.connect.chats.values():
        wa_id = chat.customer.wa_id
        assert chat.messages() == [f"{wa_id}-{i}" for i in range(10)]


# ---- keyed lock ---------------------------------------------------------------------------


def test_keyed_lock_lets_different_keys_run_at_the_same_time() -> None:
    locks = KeyedLock()
    both_inside = threading.Barrier(2)
    results: list[str] = []

    def work(key: str) -> None:
        with locks.hold(key):
            # Would time out if the second key had to wait for the first.
            both_inside.wait(timeout=WAIT_SECONDS)
            results.append(key)

    threads = [threading.Thread(target=work, args=(k,)) for k in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive()

    assert sorted(results) == ["a", "b"]


def test_keyed_lock_excludes_the_same_key_and_forgets_released_keys() -> None:
    locks = KeyedLock()
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most_inside
        with locks.hold("same"):
            with guard:
                inside += 1
                most_inside = max(most_inside, inside)
            threading.Event().wait(0.002)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WAIT_SECONDS)
        assert not thread.is_alive()

    assert most_inside == 1
    assert len(locks) == 0


def test_retry_policy_doubles_waits_up_to_its_cap() -> None:
    assert RetryPolicy(attempts=5, delay=0.5, max_delay=2.0).waits() == [0.5, 1.0, 2.0, 2.0]
    assert RetryPolicy(attempts=1).waits() == []


@pytest.mark.parametrize("name", ["customer_echo", "visibility_agent"])
def test_captured_connect_traffic_not_for_the_customer_is_skipped(name: str) -> None:
    world = World()
    document = json.loads((EVENTS / "connect" / f"{name}.json").read_text(encoding="utf-8"))

    outcomes = world.bridge.handle_document(document)

    assert [o.kind for o in outcomes] == ["skipped"]
    assert world.whatsapp.sent == []


def test_bootstrap_builds_a_bridge_without_touching_the_network(tmp_path: Path) -> None:
    import boto3

    from waconnect.bootstrap import build_bridge
    from waconnect.settings import Settings

    settings = Settings.for_sandbox(
        endpoint_url="http://127.0.0.1:9",
        s3_endpoint_url="http://127.0.0.1:9",
        state_path=str(tmp_path / "state.sqlite3"),
    )
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="fake", region_name="us-east-1"
    )

    bridge = build_bridge(settings, clock=FakeClock(), boto_session=session)

    assert [o.kind for o in bridge.handle_document(b"{not json")] == ["rejected"]
