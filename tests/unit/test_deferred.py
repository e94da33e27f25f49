"""Nothing dropped when retries run out: work that cannot go now is deferred and kept, handed in
again by ``run_due`` with growing gaps, and reported only once it is older than the maximum age.
Connect's active-chat quota is capacity, not failure: the customer waits for a chat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.documents import eum_texts
from tests.fakes import InMemoryRetryStore
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.adapters.local.sqlite_kept import SqliteRetryStore
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.errors import CapacityExceeded, Kind, TransientError
from waconnect.ports import KeptDocument, RetryStore
from waconnect.services.feedback import QUEUED_TEXT, FeedbackSettings

MAX_AGE = 3600.0


class World(Ports):
    def __init__(self, kept: RetryStore | None = None) -> None:
        super().__init__()
        self.kept = kept if kept is not None else InMemoryRetryStore()
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=2, delay=0.1, max_age=MAX_AGE, later=10, max_later=600),
            sleep=lambda _: None,
            kept=self.kept,
            clock=self.clock.now,
        )

    def document(self, wamid: str, body: str) -> dict[str, Any]:
        # Its WhatsApp timestamp is the fake clock's start: the message's age counts from there.
        return eum_texts((wamid, body), wa_id="15550100001", name="Ana")


def quota_full() -> CapacityExceeded:
    return CapacityExceeded(
        "StartChatContact: LimitExceededException: active chats",
        operation="StartChatContact",
        code="LimitExceededException",
    )


def test_a_full_chat_quota_defers_the_message_and_delivers_it_once_a_chat_opens() -> None:
    world = World()
    world.connect.fail_next(quota_full(), operation="start_chat", times=3)

    [first] = world.bridge.handle_document(world.document("wamid.q1", "anyone there?"))
    assert first.kind == "deferred"
    assert "LimitExceededException" in first.reason
    assert world.connect.chats == {}
    # Capacity is not failure: the customer is told they wait, not that anything failed.
    assert world.whatsapp.texts() == [QUEUED_TEXT]

    waits = []
    outcomes: list[Any] = []
    while not any(o.kind == "delivered" for o in outcomes):
        [kept] = world.kept.documents.values()
        waits.append(kept.due_at - world.clock.now())
        world.clock.advance(kept.due_at - world.clock.now())
        outcomes = world.bridge.run_due(world.clock.now())

    [chat] = world.connect.chats.values()
    assert chat.messages() == ["anyone there?"]
    assert world.kept.documents == {}
    assert world.whatsapp.texts() == [QUEUED_TEXT]  # once, however many retries it took
    assert waits == sorted(waits)  # the gaps grow
    assert waits[-1] > waits[0]


def test_a_customer_waiting_for_a_chat_is_told_once_however_many_messages_they_send() -> None:
    world = World()
    world.connect.fail_next(quota_full(), operation="start_chat", times=3)
    for n in range(3):
        [outcome] = world.bridge.handle_document(world.document(f"wamid.w{n}", f"hello {n}"))
        assert outcome.kind == "deferred"
    world.clock.advance(30)
    world.bridge.run_due(world.clock.now())
    world.clock.advance(3600)
    world.bridge.run_due(world.clock.now())

    [chat] = world.connect.chats.values()
    # Each reached the chat, in the order the customer sent them.
    assert chat.messages() == ["hello 0", "hello 1", "hello 2"]
    [(_, told)] = [(b, m) for b, m in world.whatsapp.sent if getattr(m, "text", None)]
    assert (told.text, told.reply_to) == (QUEUED_TEXT, "wamid.w0")


def test_with_the_queued_text_empty_a_waiting_customer_is_told_nothing() -> None:
    ports = Ports()
    bridge = Bridge(
        inbound_service(ports, feedback=FeedbackSettings(queued_text="")),
        outbound_service(ports),
        retry=RetryPolicy(attempts=1, max_age=MAX_AGE),
        sleep=lambda _: None,
        kept=InMemoryRetryStore(),
        clock=ports.clock.now,
    )
    ports.connect.fail_next(quota_full(), operation="start_chat")
    doc = eum_texts(("wamid.quiet", "hi"), wa_id="15550100001", name="Ana")
    [outcome] = bridge.handle_document(doc)
    assert outcome.kind == "deferred"
    assert ports.whatsapp.texts() == []


def test_transient_failures_past_the_attempts_are_kept_not_reported() -> None:
    world = World()
    outage = TransientError("SendMessage: 503", operation="SendMessage", kind=Kind.UNAVAILABLE)
    world.connect.fail_next(outage, operation="send_message", times=2)

    [first] = world.bridge.handle_document(world.document("wamid.t1", "hello"))

    assert first.kind == "deferred"
    assert world.whatsapp.texts() == []
    world.clock.advance(first.retry_after)
    [again] = world.bridge.run_due(world.clock.now())
    assert again.kind == "delivered"
    [chat] = world.connect.chats.values()
    assert chat.messages() == ["hello"]


def test_a_message_older_than_the_maximum_age_is_reported_and_dropped_from_the_store() -> None:
    world = World()
    world.connect.fail_next(quota_full(), operation="start_chat", times=1000)
    world.bridge.handle_document(world.document("wamid.old", "still waiting"))

    outcomes: list[Any] = []
    while world.kept.documents:
        [kept] = world.kept.documents.values()
        world.clock.advance(kept.due_at - world.clock.now())
        outcomes = world.bridge.run_due(world.clock.now())

    [last] = outcomes
    assert last.kind == "failed"
    assert world.clock.now() - 1_764_000_000 >= MAX_AGE - 600
    assert world.whatsapp.texts()  # the customer is told in words


def test_without_a_maximum_age_exhausted_retries_fail_at_once() -> None:
    ports = Ports()
    bridge = Bridge(
        inbound_service(ports),
        outbound_service(ports),
        retry=RetryPolicy(attempts=1),
        sleep=lambda _: None,
    )
    ports.connect.fail_next(quota_full(), operation="start_chat")
    doc = eum_texts(("wamid.now", "hi"), wa_id="15550100001", name="Ana")
    [outcome] = bridge.handle_document(doc)
    assert outcome.kind == "failed"


def test_kept_documents_survive_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    first = SqliteRetryStore(path)
    first.keep("doc-1", '{"a": 1}', due_at=100.0)
    first.keep("doc-2", '{"b": 2}', due_at=50.0)
    first.keep("doc-1", '{"a": 1}', due_at=120.0)
    first.close()

    reopened = SqliteRetryStore(path)
    try:
        # The due time kept last, the document as kept, in the order first kept.
        assert reopened.due(200.0) == [
            KeptDocument(key="doc-1", document='{"a": 1}', due_at=120.0),
            KeptDocument(key="doc-2", document='{"b": 2}', due_at=50.0),
        ]
    finally:
        reopened.close()
