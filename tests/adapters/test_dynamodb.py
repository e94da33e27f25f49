"""DynamoDB stores beyond the contract: what is written, expiry by condition, errors mapped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from tests.contracts.test_session_store_contract import make_session
from tests.fakes import FakeClock
from tests.moto_isolation import isolated_mock_aws

from waconnect.adapters.aws.dynamodb import (
    CONTACT_INDEX,
    DynamoDbSessionStore,
    ledger_table_definition,
    session_table_definition,
)
from waconnect.adapters.aws.dynamodb_ledger import DynamoDbLedger
from waconnect.errors import PermanentError
from waconnect.ports import LEDGER_TTL_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    with isolated_mock_aws():
        dynamodb = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        dynamodb.create_table(**session_table_definition("sessions"))
        dynamodb.create_table(**ledger_table_definition("ledger"))
        yield dynamodb
        # The mock keeps its state (see tests/moto_isolation.py): leave nothing behind.
        dynamodb.delete_table(TableName="sessions")
        dynamodb.delete_table(TableName="ledger")


def test_session_item_is_flat_and_indexed_by_contact(client: DynamoDBClient) -> None:
    session = make_session(contact_id="contact-flat")
    DynamoDbSessionStore(client, "sessions").save(session)
    item = client.get_item(TableName="sessions", Key={"session_key": {"S": str(session.key)}})[
        "Item"
    ]
    assert item["contact_id"] == {"S": "contact-flat"}
    assert item["ended"] == {"BOOL": False}
    assert float(item["connection_expiry"]["N"]) == session.connection_expiry
    indexes = client.describe_table(TableName="sessions")["Table"]["GlobalSecondaryIndexes"]
    assert [index["IndexName"] for index in indexes] == [CONTACT_INDEX]


def test_claim_writes_an_epoch_ttl_attribute_seven_days_ahead(client: DynamoDBClient) -> None:
    clock = FakeClock()
    DynamoDbLedger(client, "ledger", clock).claim("wamid.ttl")
    item = client.get_item(TableName="ledger", Key={"claim_key": {"S": "wamid.ttl"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(clock.now()) + LEDGER_TTL_SECONDS


def test_expired_item_not_yet_deleted_by_ttl_is_taken_over(client: DynamoDBClient) -> None:
    # DynamoDB's TTL sweeper runs late; the item is still there when the retention has passed.
    clock = FakeClock()
    ledger = DynamoDbLedger(client, "ledger", clock)
    ledger.claim("wamid.late")
    clock.advance(LEDGER_TTL_SECONDS + 3600)
    assert ledger.claim("wamid.late") is True
    item = client.get_item(TableName="ledger", Key={"claim_key": {"S": "wamid.late"}})["Item"]
    assert int(item["expires_at"]["N"]) == int(clock.now()) + LEDGER_TTL_SECONDS


def test_missing_table_is_a_permanent_error(client: DynamoDBClient) -> None:
    with pytest.raises(PermanentError):
        DynamoDbLedger(client, "no-such-table", FakeClock()).claim("wamid.x")
    with pytest.raises(PermanentError):
        DynamoDbSessionStore(client, "no-such-table").find_by_contact("contact-x")
