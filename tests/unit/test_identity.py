"""One customer, one chat, whichever ids their messages carry, in every order of arrival:
phone number only (wa_id), business-scoped user id only (BSUID), or both."""

from __future__ import annotations

import itertools

import pytest
from tests.worlds import Ports, inbound_service

from waconnect.domain.whatsapp import BusinessNumber, Customer, InboundMessage, MessageType
from waconnect.errors import CapacityExceeded
from waconnect.wire.meta_send import recipient_fields

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
WA_ID = "15550100001"
BSUID = "US.13491208655302741918"
SHAPES = {
    "phone": Customer(wa_id=WA_ID, name="Ana"),
    "bsuid": Customer(wa_id="", user_id=BSUID, name="Ana"),
    "both": Customer(wa_id=WA_ID, user_id=BSUID, name="Ana"),
}
_wamids = itertools.count(1)


def message(customer: Customer, body: str) -> InboundMessage:
    return InboundMessage(
        wamid=f"wamid.identity.{next(_wamids)}",
        business=BUSINESS,
        customer=customer,
        timestamp=1_764_000_000,
        type=MessageType.TEXT,
        wire_type="text",
        text=body,
    )


# Every order of two or three messages that carries both ids at some point, except where a
# phone-only and a BSUID-only message both come before any message links them: nothing can
# tell those two apart from two different people.
ORDERS = [
    order
    for length in (2, 3)
    for order in itertools.product(SHAPES, repeat=length)
    if "both" in order
    and len(set(order)) > 1
    and not {"phone", "bsuid"} <= set(order[: order.index("both")])
]


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
def test_every_order_of_ids_reaches_one_chat(order: tuple[str, ...]) -> None:
    world = Ports()
    inbound = inbound_service(world)
    for n, shape in enumerate(order):
        outcome = inbound.handle_message(message(SHAPES[shape], f"message {n}"))
        assert outcome.kind == "delivered"

    [chat] = world.connect.chats.values()
    assert chat.messages() == [f"message {n}" for n in range(len(order))]


def test_a_phone_customer_who_gains_a_bsuid_keeps_the_chat_and_is_still_sent_to_by_phone() -> None:
    world = Ports()
    inbound = inbound_service(world)
    inbound.handle_message(message(SHAPES["phone"], "hi"))
    inbound.handle_message(message(SHAPES["both"], "me again"))
    inbound.handle_message(message(SHAPES["bsuid"], "and again"))

    [chat] = world.connect.chats.values()
    assert chat.messages() == ["hi", "me again", "and again"]
    [session] = world.sessions.sessions.values()
    assert (session.customer.wa_id, session.customer.user_id) == (WA_ID, BSUID)


def test_a_bsuid_customer_whose_phone_number_becomes_known_is_sent_to_by_phone() -> None:
    world = Ports()
    inbound = inbound_service(world)
    inbound.handle_message(message(SHAPES["bsuid"], "hello"))
    inbound.handle_message(message(SHAPES["both"], "it's me"))

    [session] = world.sessions.sessions.values()
    assert session.customer.wa_id == WA_ID
    assert session.key.customer == BSUID
    assert recipient_fields(session.customer) == {"to": WA_ID}


def test_a_message_with_only_the_other_id_after_linking_finds_the_same_session() -> None:
    world = Ports()
    inbound = inbound_service(world)
    inbound.handle_message(message(SHAPES["both"], "first"))
    inbound.handle_message(message(SHAPES["phone"], "second"))
    inbound.handle_message(message(SHAPES["bsuid"], "third"))

    [chat] = world.connect.chats.values()
    assert chat.messages() == ["first", "second", "third"]


def test_a_message_with_both_ids_that_waits_for_a_chat_never_splits_the_customers_chat() -> None:
    world = Ports()
    inbound = inbound_service(world)
    full = CapacityExceeded("LimitExceededException", operation="StartChatContact")
    world.connect.fail_next(full, operation="start_chat", times=1)
    first = message(SHAPES["both"], "first")
    with pytest.raises(CapacityExceeded):
        inbound.handle_message(first)

    # Meanwhile a chat opens for a message carrying the phone number only.
    for body in ("second", "third"):
        assert inbound.handle_message(message(SHAPES["phone"], body)).kind == "delivered"
    assert inbound.handle_message(first).kind == "delivered"
    assert inbound.handle_message(message(SHAPES["bsuid"], "fourth")).kind == "delivered"

    [chat] = world.connect.chats.values()
    assert chat.messages() == ["second", "third", "first", "fourth"]
