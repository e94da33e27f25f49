"""Connect delivers streaming events at least once: a redelivered event changes nothing."""

from __future__ import annotations

from tests.unit.test_outbound import World, event

from waconnect.domain.connect import EVENT_PREFIX, EventType
from waconnect.domain.outgoing import ReadReceipt
from waconnect.ports import LoggedMessage


def test_a_typing_event_delivered_twice_shows_the_indicator_once() -> None:
    world = World()
    session = world.open_chat()
    world.log.remember(
        LoggedMessage.of(
            wamid="wamid.customer.1",
            key=session.key,
            author="customer",
            text="Hi",
            at=world.clock.now(),
        )
    )
    typing = event(session, type=EventType.EVENT, content_type=f"{EVENT_PREFIX}typing", content="")

    first = world.service.handle_agent_event(typing)
    second = world.service.handle_agent_event(typing)

    assert (first.kind, second.kind) == ("delivered", "duplicate")
    assert [m for _, m in world.whatsapp.sent] == [
        ReadReceipt(message_id="wamid.customer.1", typing=True)
    ]


def test_an_event_for_an_unknown_contact_delivered_twice_is_ignored_once() -> None:
    world = World()
    world.open_chat()
    stray = event(None, content="hello?", contact_id="contact-nobody-knows")

    kinds = [world.service.handle_agent_event(stray).kind for _ in range(2)]

    assert kinds == ["ignored", "duplicate"]
    assert world.whatsapp.sent == []
