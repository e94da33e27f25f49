"""SessionStore, Ledger and MessageLog over DynamoDB (boto3 ``dynamodb`` client, injected).

Tables (the CDK stack creates them; on-demand billing suits the bursty traffic):

Sessions table
    partition key ``session_key`` (S) = ``str(SessionKey)``, i.e. ``<phone-number-id>#<customer>``;
    global secondary index ``by_contact``: partition key ``contact_id`` (S), projection ALL.
    Every other attribute is a flat field of ``session_codec.FIELDS`` (S, N or BOOL).
    ``get`` reads consistently; ``find_by_contact`` goes through the index, which is eventually
    consistent: a session saved a moment ago may not be found by its contact id yet.
    ``save`` is a put conditional on the stored ``generation`` being no newer, so a process still
    holding an old chat can never overwrite the customer's new one. A customer known by two ids
    (phone number and BSUID) has an alias item under the other id's key: ``session_key`` and
    ``alias_of`` (S, the key of the session) only.

Ledger table
    partition key ``claim_key`` (S); ``claimed_at`` (N, epoch seconds); ``lease_until`` (N: the
    end of the holder's lease, 0 once done); ``expires_at`` (N, epoch seconds) is the table's TTL
    attribute. DynamoDB deletes expired items only eventually (hours later), so a claim is a
    conditional put that succeeds when no item exists, the item has expired, or its lease has
    run out; the expiry is part of the condition, not left to TTL.
    It also holds the documents kept to be handed in again (``dynamodb_kept``): items keyed
    ``kept#<key>`` with ``kept_queue`` and ``due_at``, the only items the sparse global secondary
    index ``kept_by_due`` (partition ``kept_queue``, sort ``due_at``) lists.

Message log table
    partition key ``log_key`` (S). Two kinds of item: ``wamid#<wamid>`` holds one message
    (``session_key``, ``author``, ``snippet``, ``at``); ``latest#<session key>`` holds the wamid
    the customer sent last, replaced only by a message at least as recent (a conditional put, so
    a slow writer never moves it back). Both carry ``expires_at`` (the TTL attribute); reads
    ignore expired items, since TTL deletes them late.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from waconnect.adapters.aws.errors import translate_errors
from waconnect.adapters.session_codec import session_from_record, session_to_record
from waconnect.domain.session import SessionKey
from waconnect.ports import MESSAGE_LOG_TTL_SECONDS, LoggedMessage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from waconnect.domain.session import ChatSession
    from waconnect.ports import Clock

logger = logging.getLogger(__name__)

SERVICE = "dynamodb"
SESSION_KEY = "session_key"
CONTACT_INDEX = "by_contact"
ALIAS_OF = "alias_of"
CLAIM_KEY = "claim_key"
TTL_ATTRIBUTE = "expires_at"
LEASE_ATTRIBUTE = "lease_until"
LOG_KEY = "log_key"
KEPT_INDEX = "kept_by_due"
KEPT_QUEUE = "kept_queue"
DUE_ATTRIBUTE = "due_at"


def session_table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for a sessions table (the server shape, tests; the CDK mirrors it)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": SESSION_KEY, "AttributeType": "S"},
            {"AttributeName": "contact_id", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": SESSION_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": CONTACT_INDEX,
                "KeySchema": [{"AttributeName": "contact_id", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def ledger_table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for a ledger table; enable TTL on ``TTL_ATTRIBUTE`` afterwards."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": CLAIM_KEY, "AttributeType": "S"},
            {"AttributeName": KEPT_QUEUE, "AttributeType": "S"},
            {"AttributeName": DUE_ATTRIBUTE, "AttributeType": "N"},
        ],
        "KeySchema": [{"AttributeName": CLAIM_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                # Sparse: claims carry no kept_queue, so only kept documents are listed.
                "IndexName": KEPT_INDEX,
                "KeySchema": [
                    {"AttributeName": KEPT_QUEUE, "KeyType": "HASH"},
                    {"AttributeName": DUE_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    }


def message_log_table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for a message log table; enable TTL on ``TTL_ATTRIBUTE`` afterwards."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": LOG_KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": LOG_KEY, "KeyType": "HASH"}],
    }


def _to_attribute(value: str | float | int | bool) -> AttributeValueTypeDef:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    # repr is the shortest text that reads back as the same float: no precision lost.
    return {"N": repr(value)}


def _from_attribute(value: Mapping[str, Any]) -> str | Decimal | bool:
    if "S" in value:
        return str(value["S"])
    if "BOOL" in value:
        return bool(value["BOOL"])
    return Decimal(str(value["N"]))


def _session(item: Mapping[str, Any]) -> ChatSession:
    return session_from_record({name: _from_attribute(value) for name, value in item.items()})


class DynamoDbSessionStore:
    """Sessions in a DynamoDB table keyed by session key, with a contact-id index."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, key: SessionKey) -> ChatSession | None:
        item = self._item(str(key))
        if item is not None and ALIAS_OF in item:
            item = self._item(str(item[ALIAS_OF]["S"]))
        return None if item is None or ALIAS_OF in item else _session(item)

    def link(self, alias: SessionKey, key: SessionKey) -> None:
        # An alias item lives in the sessions table under the other identity's key; it has no
        # contact_id, so the contact index never lists it.
        with translate_errors("PutItem", service=SERVICE):
            self._client.put_item(
                TableName=self._table,
                Item={SESSION_KEY: {"S": str(alias)}, ALIAS_OF: {"S": str(key)}},
            )

    def _item(self, session_key: str) -> Mapping[str, Any] | None:
        with translate_errors("GetItem", service=SERVICE):
            response = self._client.get_item(
                TableName=self._table,
                Key={SESSION_KEY: {"S": session_key}},
                ConsistentRead=True,
            )
        return response.get("Item")

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        with translate_errors("Query", service=SERVICE):
            response = self._client.query(
                TableName=self._table,
                IndexName=CONTACT_INDEX,
                KeyConditionExpression="contact_id = :contact",
                ExpressionAttributeValues={":contact": {"S": contact_id}},
            )
        sessions = [_session(item) for item in response.get("Items", [])]
        if not sessions:
            return None
        return max(sessions, key=lambda session: session.started_at)

    def save(self, session: ChatSession) -> bool:
        item = {name: _to_attribute(value) for name, value in session_to_record(session).items()}
        with translate_errors("PutItem", service=SERVICE):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#key) OR #generation <= :generation",
                    ExpressionAttributeNames={"#key": SESSION_KEY, "#generation": "generation"},
                    ExpressionAttributeValues={":generation": {"N": str(session.generation)}},
                )
            except ClientError as exc:
                # A newer chat is stored: keeping it is the answer, not a failure.
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    logger.info(
                        "kept a newer session instead of generation %d of contact %s",
                        session.generation,
                        session.contact_id,
                    )
                    return False
                raise
        return True


class DynamoDbMessageLog:
    """Messages by wamid plus a pointer to each customer's latest, all expiring by TTL."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Clock,
        *,
        ttl_seconds: int = MESSAGE_LOG_TTL_SECONDS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._ttl = ttl_seconds

    def remember(self, entry: LoggedMessage) -> None:
        expires: AttributeValueTypeDef = {"N": str(int(entry.at + self._ttl))}
        with translate_errors("PutItem", service=SERVICE):
            self._client.put_item(
                TableName=self._table,
                Item={
                    LOG_KEY: {"S": f"wamid#{entry.wamid}"},
                    SESSION_KEY: {"S": str(entry.key)},
                    "business_number": {"S": entry.key.business_number},
                    "customer": {"S": entry.key.customer},
                    "author": {"S": entry.author},
                    "snippet": {"S": entry.snippet},
                    "at": {"N": repr(entry.at)},
                    TTL_ATTRIBUTE: expires,
                },
            )
        if entry.author == "customer":
            self._point_latest(entry, expires)

    def _point_latest(self, entry: LoggedMessage, expires: AttributeValueTypeDef) -> None:
        with translate_errors("PutItem", service=SERVICE):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item={
                        LOG_KEY: {"S": f"latest#{entry.key}"},
                        "wamid": {"S": entry.wamid},
                        "at": {"N": repr(entry.at)},
                        TTL_ATTRIBUTE: expires,
                    },
                    ConditionExpression="attribute_not_exists(#key) OR #at <= :at",
                    ExpressionAttributeNames={"#key": LOG_KEY, "#at": "at"},
                    ExpressionAttributeValues={":at": {"N": repr(entry.at)}},
                )
            except ClientError as exc:
                # A newer message got there first: the pointer is already right.
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    def recall(self, wamid: str) -> LoggedMessage | None:
        item = self._live_item(f"wamid#{wamid}")
        if item is None:
            return None
        return LoggedMessage(
            wamid=wamid,
            key=SessionKey(
                business_number=str(item["business_number"]["S"]),
                customer=str(item["customer"]["S"]),
            ),
            author="agent" if item["author"]["S"] == "agent" else "customer",
            snippet=str(item["snippet"]["S"]),
            at=float(item["at"]["N"]),
        )

    def latest_from_customer(self, key: SessionKey) -> str:
        item = self._live_item(f"latest#{key}")
        return "" if item is None else str(item["wamid"]["S"])

    def _live_item(self, log_key: str) -> Mapping[str, Any] | None:
        with translate_errors("GetItem", service=SERVICE):
            response = self._client.get_item(
                TableName=self._table, Key={LOG_KEY: {"S": log_key}}, ConsistentRead=True
            )
        item = response.get("Item")
        if item is None or float(item["at"]["N"]) <= self._clock.now() - self._ttl:
            return None
        return item
