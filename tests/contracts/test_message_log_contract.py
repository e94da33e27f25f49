"""The MessageLog contract, run over the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeClock, InMemoryMessageLog
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import DynamoDbMessageLog, message_log_table_definition
from waconnect.adapters.local.sqlite import SqliteMessageLog
from waconnect.domain.session import SessionKey
from waconnect.ports import (
    MESSAGE_LOG_TTL_SECONDS,
    SNIPPET_CHARS,
    Author,
    LoggedMessage,
    MessageLog,
)

ANA = SessionKey(business_number="100000000000001", customer="15550100001")
BEN = SessionKey(business_number="100000000000001", customer="15550100002")
ANA_ON_OTHER_NUMBER = SessionKey(business_number="100000000000002", customer="15550100001")


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def log(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[MessageLog]:
    if request.param == "in-memory":
        yield InMemoryMessageLog(clock=clock)
    elif request.param.startswith("sqlite"):
        target = tmp_path / "state.sqlite3" if request.param == "sqlite-file" else ":memory:"
        sqlite = SqliteMessageLog(target, clock)
        yield sqlite
        sqlite.close()
    else:
        with mocked_dynamodb_table("messages", message_log_table_definition) as (client, table):
            yield DynamoDbMessageLog(client, table, clock)


def entry(
    wamid: str,
    clock: FakeClock,
    *,
    key: SessionKey = ANA,
    author: Author = "customer",
    text: str = "Is my order on its way?",
) -> LoggedMessage:
    return LoggedMessage.of(wamid=wamid, key=key, author=author, text=text, at=clock.now())


def test_remembered_message_is_recalled_with_all_its_fields(
    log: MessageLog, clock: FakeClock
) -> None:
    remembered = entry("wamid.contract.1", clock, author="agent", text="Yes, it left today 🚚")
    log.remember(remembered)
    assert log.recall("wamid.contract.1") == remembered


def test_unknown_wamid_is_not_recalled(log: MessageLog) -> None:
    assert log.recall("wamid.contract.never") is None


def test_remembering_a_wamid_again_replaces_its_entry(log: MessageLog, clock: FakeClock) -> None:
    log.remember(entry("wamid.contract.1", clock, text="first words"))
    log.remember(entry("wamid.contract.1", clock, text="second words"))
    recalled = log.recall("wamid.contract.1")
    assert recalled is not None
    assert recalled.snippet == "second words"


def test_long_text_is_kept_as_a_short_one_line_snippet(log: MessageLog, clock: FakeClock) -> None:
    words = "please\ncall me back " * 20
    log.remember(entry("wamid.contract.long", clock, text=words))
    recalled = log.recall("wamid.contract.long")
    assert recalled is not None
    assert len(recalled.snippet) <= SNIPPET_CHARS
    assert recalled.snippet.startswith("please call me back please")
    assert recalled.snippet.endswith("…")
    assert "\n" not in recalled.snippet


def test_latest_from_customer_is_the_last_customer_message(
    log: MessageLog, clock: FakeClock
) -> None:
    log.remember(entry("wamid.contract.1", clock))
    clock.advance(5)
    log.remember(entry("wamid.contract.2", clock))
    clock.advance(5)
    log.remember(entry("wamid.contract.agent", clock, author="agent"))
    assert log.latest_from_customer(ANA) == "wamid.contract.2"


def test_latest_from_customer_ties_go_to_the_message_remembered_last(
    log: MessageLog, clock: FakeClock
) -> None:
    log.remember(entry("wamid.contract.1", clock))
    log.remember(entry("wamid.contract.2", clock))
    assert log.latest_from_customer(ANA) == "wamid.contract.2"


def test_an_older_message_remembered_late_does_not_become_the_latest(
    log: MessageLog, clock: FakeClock
) -> None:
    older = entry("wamid.contract.old", clock)
    clock.advance(5)
    log.remember(entry("wamid.contract.new", clock))
    log.remember(older)
    assert log.latest_from_customer(ANA) == "wamid.contract.new"


def test_latest_from_customer_is_kept_per_customer_and_business_number(
    log: MessageLog, clock: FakeClock
) -> None:
    log.remember(entry("wamid.contract.ana", clock))
    log.remember(entry("wamid.contract.ben", clock, key=BEN))
    log.remember(entry("wamid.contract.ana2", clock, key=ANA_ON_OTHER_NUMBER))
    assert log.latest_from_customer(ANA) == "wamid.contract.ana"
    assert log.latest_from_customer(BEN) == "wamid.contract.ben"
    assert log.latest_from_customer(ANA_ON_OTHER_NUMBER) == "wamid.contract.ana2"


def test_no_latest_when_only_the_agent_has_written(log: MessageLog, clock: FakeClock) -> None:
    log.remember(entry("wamid.contract.agent", clock, author="agent"))
    assert log.latest_from_customer(ANA) == ""


def test_entries_last_until_just_before_the_retention_ends(
    log: MessageLog, clock: FakeClock
) -> None:
    log.remember(entry("wamid.contract.1", clock))
    clock.advance(MESSAGE_LOG_TTL_SECONDS - 60)
    assert log.recall("wamid.contract.1") is not None
    assert log.latest_from_customer(ANA) == "wamid.contract.1"


def test_entries_older_than_the_retention_are_forgotten(log: MessageLog, clock: FakeClock) -> None:
    log.remember(entry("wamid.contract.1", clock))
    clock.advance(MESSAGE_LOG_TTL_SECONDS)
    assert log.recall("wamid.contract.1") is None
    assert log.latest_from_customer(ANA) == ""
