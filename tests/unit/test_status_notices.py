"""A WhatsApp ``failed`` status of a message the agent sent becomes a notice in the agent's chat,
naming the message and the reason in plain words; other statuses change nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.domain.session import ChatSession
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.ports import LoggedMessage

EVENTS = Path(__file__).resolve().parent.parent / "events"
FAILED = EVENTS / "meta" / "status_failed_131047.json"
BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001", display_phone_number="15550000000"
)
ANA = Customer(wa_id="15550100001", name="Ana")


class World(Ports):
    def __init__(self, *, snippets: bool = True) -> None:
        super().__init__()
        self.bridge = Bridge(
            inbound_service(self, remember_snippets=snippets),
            outbound_service(self, remember_snippets=snippets),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )

    def agent_sent(self, session: ChatSession, wamid: str, text: str) -> None:
        """What the bridge logs when it sends an agent's text to WhatsApp."""
        self.log.remember(
            LoggedMessage.of(
                wamid=wamid, key=session.key, author="agent", text=text, at=self.clock.now()
            )
        )


def failed_status() -> tuple[str, dict[str, Any]]:
    document = json.loads(FAILED.read_text())
    wamid = document["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    return wamid, document


def test_a_reply_outside_the_24_hour_window_is_named_to_the_agent_with_the_reason() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    wamid, document = failed_status()
    world.agent_sent(session, wamid, "Your refund was approved")

    [outcome] = world.bridge.handle_document(document)

    assert (outcome.kind, outcome.reason) == ("failed", "outside_24h_window")
    [chat] = world.connect.chats.values()
    [notice] = chat.messages()
    assert "“Your refund was approved”" in notice
    assert "did not reach the customer" in notice
    assert "more than 24 hours have passed" in notice


def test_the_same_failed_status_twice_gives_one_notice() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    wamid, document = failed_status()
    world.agent_sent(session, wamid, "See you")

    world.bridge.handle_document(document)
    [again] = world.bridge.handle_document(document)

    assert again.kind == "duplicate"
    [chat] = world.connect.chats.values()
    assert len(chat.messages()) == 1


def test_without_snippets_the_notice_still_gives_the_reason() -> None:
    world = World(snippets=False)
    session = world.open_chat_for(BUSINESS, ANA)
    wamid, document = failed_status()
    world.log.remember(
        LoggedMessage(wamid=wamid, key=session.key, author="agent", snippet="", at=0.0)
    )
    world.clock.current = 60.0  # within the log's retention of the entry

    world.bridge.handle_document(document)

    [chat] = world.connect.chats.values()
    [notice] = chat.messages()
    assert notice.startswith("⚠️ Your message did not reach the customer")


def test_a_failed_status_of_a_message_the_bridge_does_not_know_is_only_logged() -> None:
    world = World()
    world.open_chat_for(BUSINESS, ANA)
    _, document = failed_status()

    [outcome] = world.bridge.handle_document(document)

    assert outcome.kind == "skipped"
    [chat] = world.connect.chats.values()
    assert chat.messages() == []


def test_a_failed_status_after_the_chat_ended_tells_nobody_in_a_closed_chat() -> None:
    world = World()
    session = world.open_chat_for(BUSINESS, ANA)
    wamid, document = failed_status()
    world.agent_sent(session, wamid, "Bye")
    world.sessions.save(session.closed())

    [outcome] = world.bridge.handle_document(document)

    assert outcome.kind == "failed"
    [chat] = world.connect.chats.values()
    assert chat.messages() == []
