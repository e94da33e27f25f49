"""A customer's messages reach the agent in the order sent, also when older ones wait in the
bridge's kept documents: a newer message never overtakes them, whether it arrives live or its
retry comes due first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.documents import eum_texts
from tests.fakes import InMemoryRetryStore
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.adapters.local.sqlite_kept import SqliteRetryStore
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.entrypoints.kept_documents import first_kept_order
from waconnect.errors import CapacityExceeded, TransientError
from waconnect.ports import KeptDocument, RetryStore

ANA = "15550100001"
BEN = "15550100002"
ANA_BSUID = "US.13491208655302741918"
# The ids a message of Ana's carries: phone number, business-scoped user id, or both.
ANA_IDS = {"wa_id": (ANA, ""), "bsuid": ("", ANA_BSUID), "both": (ANA, ANA_BSUID)}


class World(Ports):
    def __init__(self, kept: RetryStore) -> None:
        super().__init__()
        self.kept = kept
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1, max_age=3600, later=10, max_later=600),
            sleep=lambda _: None,
            kept=kept,
            clock=self.clock.now,
        )

    def send(self, wa_id: str, wamid: str, body: str, *, user_id: str = "") -> list[Any]:
        doc = eum_texts((wamid, body), wa_id=wa_id, name="Ana", user_id=user_id)
        return self.bridge.handle_document(doc)

    def send_as(self, ids: str, wamid: str, body: str) -> list[Any]:
        wa_id, user_id = ANA_IDS[ids]
        return self.send(wa_id, wamid, body, user_id=user_id)

    def the_chat(self) -> list[str]:
        [chat] = self.connect.chats.values()
        return chat.messages()

    def chat_of(self, wa_id: str) -> list[str]:
        [chat] = [c for c in self.connect.chats.values() if c.customer.wa_id == wa_id]
        return chat.messages()


@pytest.fixture(params=["in-memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "in-memory":
        yield World(InMemoryRetryStore())
        return
    store = SqliteRetryStore(tmp_path / "state.sqlite3")
    yield World(store)
    store.close()


def quota_full(times: int, world: World) -> None:
    error = CapacityExceeded(
        "StartChatContact: LimitExceededException", operation="StartChatContact"
    )
    world.connect.fail_next(error, operation="start_chat", times=times)


def test_a_live_message_after_a_chat_frees_up_reaches_the_agent_after_the_waiting_one(
    world: World,
) -> None:
    quota_full(1, world)
    [waiting] = world.send(ANA, "wamid.a1", "first, while all chats were taken")
    assert waiting.kind == "deferred"

    # A chat can open now, and the customer writes again before the kept message is due.
    [live] = world.send(ANA, "wamid.a2", "second")

    assert live.kind == "delivered"
    assert world.chat_of(ANA) == ["first, while all chats were taken", "second"]
    assert world.kept.waiting(f"100000000000001#{ANA}") == []
    world.clock.advance(3600)
    assert all(o.kind != "delivered" for o in world.bridge.run_due(world.clock.now()))
    assert world.chat_of(ANA) == ["first, while all chats were taken", "second"]


def test_while_the_waiting_one_still_cannot_go_the_new_one_waits_behind_it(world: World) -> None:
    quota_full(2, world)
    [first] = world.send(ANA, "wamid.b1", "one")
    [second] = world.send(ANA, "wamid.b2", "two")

    assert (first.kind, second.kind) == ("deferred", "deferred")
    assert second.reason == "behind the customer's earlier messages"
    assert world.connect.chats == {}
    # The newer document comes due first (it has waited less); the older one still goes first.
    world.clock.advance(second.retry_after)
    world.bridge.run_due(world.clock.now())
    world.clock.advance(3600)
    world.bridge.run_due(world.clock.now())
    assert world.chat_of(ANA) == ["one", "two"]
    assert world.kept.due(world.clock.now() + 10**6) == []


def test_another_customer_is_not_held_behind_someone_elses_waiting_message(world: World) -> None:
    quota_full(1, world)
    [ana] = world.send(ANA, "wamid.c1", "ana waits")
    [ben] = world.send(BEN, "wamid.c2", "ben goes")

    assert (ana.kind, ben.kind) == ("deferred", "delivered")
    assert world.chat_of(BEN) == ["ben goes"]
    assert len(world.kept.waiting(f"100000000000001#{ANA}")) == 1


# A customer known by both ids: each pair shares one id, so the two messages are one customer's.
BOTH_WAYS = [("wa_id", "both"), ("both", "wa_id"), ("bsuid", "both"), ("both", "bsuid")]


@pytest.mark.parametrize(("first_ids", "second_ids"), BOTH_WAYS)
def test_a_message_under_another_of_the_customers_ids_still_comes_after_their_waiting_one(
    world: World, first_ids: str, second_ids: str
) -> None:
    quota_full(1, world)
    [waiting] = world.send_as(first_ids, "wamid.d1", "first, while all chats were taken")
    assert waiting.kind == "deferred"

    [live] = world.send_as(second_ids, "wamid.d2", "second")

    assert live.kind == "delivered"
    assert world.the_chat() == ["first, while all chats were taken", "second"]


@pytest.mark.parametrize(("first_ids", "second_ids"), BOTH_WAYS)
def test_a_message_under_another_of_the_customers_ids_waits_behind_their_waiting_one(
    world: World, first_ids: str, second_ids: str
) -> None:
    quota_full(2, world)
    [first] = world.send_as(first_ids, "wamid.e1", "one")
    [second] = world.send_as(second_ids, "wamid.e2", "two")

    assert (first.kind, second.kind) == ("deferred", "deferred")
    assert second.reason == "behind the customer's earlier messages"
    world.clock.advance(second.retry_after)
    world.bridge.run_due(world.clock.now())
    world.clock.advance(3600)
    world.bridge.run_due(world.clock.now())
    assert world.the_chat() == ["one", "two"]
    assert world.kept.due(world.clock.now() + 10**6) == []


def test_the_lines_of_a_customers_two_ids_merge_in_the_order_their_documents_were_kept() -> None:
    a, b, c, d = (KeptDocument(key=key, document=key, due_at=0.0) for key in "abcd")
    # a under the phone number, c under the BSUID, b under both; d in neither's way.
    merged = first_kept_order([[b, c], [a, b, d]])
    assert [kept.key for kept in merged] == ["a", "b", "c", "d"]


class BusyWaiting(InMemoryRetryStore):
    """A retry store whose look-up of a customer's kept documents fails, ``busy`` times."""

    def __init__(self, busy: int) -> None:
        super().__init__()
        self.busy = busy

    def waiting(self, customer: str) -> list[Any]:
        if self.busy:
            self.busy -= 1
            raise TransientError("kept documents of a customer: SQLITE_BUSY", operation="waiting")
        return super().waiting(customer)


def test_a_store_busy_for_a_moment_while_looking_up_the_waiting_ones_costs_nothing() -> None:
    world = World(BusyWaiting(busy=1))
    world.bridge = Bridge(
        inbound_service(world),
        outbound_service(world),
        retry=RetryPolicy(attempts=2, max_age=3600, later=10, max_later=600),
        sleep=lambda _: None,
        kept=world.kept,
        clock=world.clock.now,
    )

    [outcome] = world.send(ANA, "wamid.d1", "hello")

    assert outcome.kind == "delivered"
    assert world.chat_of(ANA) == ["hello"]


def test_a_store_busy_past_the_retries_keeps_the_message_for_later_instead_of_losing_it() -> None:
    world = World(BusyWaiting(busy=1))

    # The document is neither failed nor lost: its message waits, kept with the document.
    [outcome] = world.send(ANA, "wamid.e1", "hello")

    assert outcome.kind == "deferred"
    assert outcome.reason == "behind the customer's earlier messages"
    assert world.connect.chats == {}
    world.clock.advance(outcome.retry_after)
    [again] = world.bridge.run_due(world.clock.now())
    assert again.kind == "delivered"
    assert world.chat_of(ANA) == ["hello"]
    assert world.kept.due(world.clock.now() + 10**6) == []
