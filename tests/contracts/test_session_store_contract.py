"""The SessionStore contract, run over the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import InMemorySessionStore
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import DynamoDbSessionStore, session_table_definition
from waconnect.adapters.local.sqlite import SqliteSessionStore
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.ports import SessionStore

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550100000",
    waba_id="200000000000001",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)


def make_session(
    wa_id: str = "15550101234", *, user_id: str = "", contact_id: str = "contact-1"
) -> ChatSession:
    customer = Customer(wa_id=wa_id, user_id=user_id, name="Zoë «test» Example")
    return ChatSession(
        key=SessionKey.of(BUSINESS, customer),
        business=BUSINESS,
        customer=customer,
        contact_id=contact_id,
        participant_id=f"participant-of-{contact_id}",
        participant_token=f"participant-token-of-{contact_id}",
        connection_token=f"connection-token-of-{contact_id}",
        connection_expiry=1_764_086_400.123456,
        generation=3,
        started_at=1_764_000_000.5,
        ended=False,
    )


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SessionStore]:
    if request.param == "in-memory":
        yield InMemorySessionStore()
    elif request.param == "sqlite-file":
        sqlite = SqliteSessionStore(tmp_path / "bridge.sqlite3")
        yield sqlite
        sqlite.close()
    elif request.param == "sqlite-memory":
        sqlite = SqliteSessionStore(":memory:")
        yield sqlite
        sqlite.close()
    else:
        with mocked_dynamodb_table("sessions", session_table_definition) as (client, table):
            yield DynamoDbSessionStore(client, table)


def test_saved_session_reads_back_equal_in_every_field(store: SessionStore) -> None:
    session = make_session(user_id="US.13491208655302741918")
    store.save(session)
    assert store.get(session.key) == session


def test_ended_session_keeps_its_ended_flag(store: SessionStore) -> None:
    session = make_session().closed()
    store.save(session)
    found = store.get(session.key)
    assert found is not None
    assert found.ended is True


def test_save_replaces_the_session_with_the_same_key(store: SessionStore) -> None:
    first = make_session(contact_id="contact-1")
    second = replace(
        first, contact_id="contact-2", generation=4, connection_token="connection-token-new"
    )
    assert store.save(first) is True
    assert store.save(second) is True
    assert store.get(first.key) == second
    assert store.find_by_contact("contact-1") is None
    assert store.find_by_contact("contact-2") == second


def test_find_by_contact_returns_the_session_holding_that_contact(store: SessionStore) -> None:
    alice = make_session("15550101111", contact_id="contact-a")
    bob = make_session("15550102222", contact_id="contact-b")
    store.save(alice)
    store.save(bob)
    assert store.find_by_contact("contact-b") == bob
    assert store.find_by_contact("contact-a") == alice


def test_unknown_key_and_unknown_contact_give_none(store: SessionStore) -> None:
    store.save(make_session())
    stranger = Customer(wa_id="15550109999")
    assert store.get(SessionKey.of(BUSINESS, stranger)) is None
    assert store.find_by_contact("no-such-contact") is None


def test_customers_of_one_business_are_kept_apart(store: SessionStore) -> None:
    alice = make_session("15550101111", contact_id="contact-a")
    bob = make_session("15550102222", contact_id="contact-b")
    store.save(alice)
    store.save(bob)
    assert store.get(alice.key) == alice
    assert store.get(bob.key) == bob


def test_username_customer_without_phone_number_is_keyed_by_user_id(store: SessionStore) -> None:
    session = make_session("", user_id="US.99999999999999999999", contact_id="contact-u")
    store.save(session)
    assert session.key.customer == "US.99999999999999999999"
    assert store.get(session.key) == session


def test_an_older_generation_never_overwrites_the_customers_newer_chat(
    store: SessionStore,
) -> None:
    # Outbound still holds generation 3 (by contact id) while inbound opened generation 4.
    old = make_session(contact_id="contact-old")
    new = replace(old, contact_id="contact-new", generation=old.generation + 1)
    assert store.save(new) is True

    assert store.save(old.with_connection("connection-token-refreshed", 1_764_100_000.0)) is False
    assert store.save(old.closed()) is False

    assert store.get(old.key) == new
    assert store.find_by_contact("contact-new") == new
    assert store.find_by_contact("contact-old") is None


def test_the_same_generation_overwrites_for_refreshes_and_closing(store: SessionStore) -> None:
    session = make_session()
    store.save(session)
    refreshed = session.with_connection("connection-token-refreshed", 1_764_100_000.25)
    assert store.save(refreshed) is True
    assert store.get(session.key) == refreshed

    assert store.save(refreshed.closed()) is True
    found = store.get(session.key)
    assert found is not None
    assert found.ended is True
    assert found.connection_token == "connection-token-refreshed"


def test_a_linked_key_finds_the_session_of_the_key_it_is_linked_to(store: SessionStore) -> None:
    session = make_session(user_id="US.13491208655302741918")
    phone = SessionKey(business_number=BUSINESS.meta_phone_number_id, customer="15550101234")
    assert store.save(session)
    assert store.get(phone) is None

    store.link(phone, session.key)

    assert store.get(phone) == session
    assert store.get(session.key) == session
    assert store.find_by_contact(session.contact_id) == session


def test_a_link_follows_later_saves_of_the_session(store: SessionStore) -> None:
    session = make_session(user_id="US.13491208655302741918")
    phone = SessionKey(business_number=BUSINESS.meta_phone_number_id, customer="15550101234")
    store.link(phone, session.key)
    assert store.get(phone) is None  # linked before anything is stored: nothing yet

    store.save(session)
    newer = replace(session, contact_id="contact-2", generation=4)
    store.save(newer)

    assert store.get(phone) == newer
