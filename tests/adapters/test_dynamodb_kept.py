"""Kept documents in the DynamoDB ledger table (moto): what the contract cannot see.

The items' shape (TTL as a Number), finding due documents by a Query rather than a Scan,
sharing the table with the ledger's claims, and the composition root using this store when
state is in DynamoDB.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import boto3
from tests.fakes import FakeClock
from tests.moto_isolation import isolated_mock_aws, mocked_dynamodb_table, unique

from waconnect.adapters.aws.dynamodb import (
    ledger_table_definition,
    message_log_table_definition,
    session_table_definition,
)
from waconnect.adapters.aws.dynamodb_kept import DynamoDbRetryStore
from waconnect.adapters.aws.dynamodb_ledger import DynamoDbLedger
from waconnect.bootstrap import build_bridge
from waconnect.ports import LEDGER_TTL_SECONDS
from waconnect.settings import Settings


def test_a_kept_item_expires_by_ttl_as_a_number_after_its_due_time() -> None:
    with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
        DynamoDbRetryStore(client, table).keep("doc-1", "{}", due_at=1000.25)
        item = client.get_item(TableName=table, Key={"claim_key": {"S": "kept#doc-1"}})["Item"]
    assert item["expires_at"] == {"N": str(1000 + LEDGER_TTL_SECONDS)}
    assert item["due_at"] == {"N": "1000.25"}


def test_due_documents_are_found_by_a_query_never_a_scan() -> None:
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
        client.meta.events.register("before-call.dynamodb.*", record)
        store = DynamoDbRetryStore(client, table)
        for n in range(3):
            store.keep(f"doc-{n}", "{}", due_at=float(n))
        calls.clear()
        assert len(store.due(10.0)) == 3
    assert "Scan" not in calls
    assert calls.count("Query") == 1


def test_claims_and_kept_documents_share_the_ledger_table_without_meeting() -> None:
    clock = FakeClock()
    with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
        ledger = DynamoDbLedger(client, table, clock)
        kept = DynamoDbRetryStore(client, table)
        assert ledger.claim("doc-1")
        kept.keep("doc-1", '{"a": 1}', due_at=clock.now())
        # The claim is not listed as a kept document, and keeping did not free the claim.
        assert [d.key for d in kept.due(clock.now() + 1)] == ["doc-1"]
        assert not ledger.claim("doc-1")
        kept.drop("doc-1")
        assert not ledger.claim("doc-1")


def test_the_bridge_keeps_documents_in_the_ledger_table_when_state_is_in_dynamodb(
    tmp_path: Path,
) -> None:
    names = {"sessions": unique("sessions"), "ledger": unique("ledger"), "log": unique("log")}
    settings = dataclasses.replace(
        Settings.for_sandbox(endpoint_url="", s3_endpoint_url="", state_path="unused"),
        state=f"dynamodb:{names['sessions']},{names['ledger']},{names['log']}",
    )
    with isolated_mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        client = session.client("dynamodb")
        client.create_table(**session_table_definition(names["sessions"]))
        client.create_table(**ledger_table_definition(names["ledger"]))
        client.create_table(**message_log_table_definition(names["log"]))
        # A document kept by an earlier process: unreadable now, so handing it in settles it.
        DynamoDbRetryStore(client, names["ledger"]).keep("doc-1", "{not json", due_at=100.0)

        with build_bridge(settings, clock=FakeClock(), boto_session=session) as bridge:
            assert bridge.run_due(99.0) == []
            assert [o.kind for o in bridge.run_due(100.0)] == ["rejected"]
        left = client.get_item(TableName=names["ledger"], Key={"claim_key": {"S": "kept#doc-1"}})
    assert "Item" not in left
