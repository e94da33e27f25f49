"""RetryStore in the ledger table: documents waiting to be handed in again, on DynamoDB state.

Each document is one item ``kept#<key>`` (the prefix keeps it apart from claims) holding the
document, ``due_at`` (N, epoch seconds), ``kept_queue`` (S, one constant value) and
``expires_at`` (N, the table's TTL attribute, a retention past the due time, so a document
nobody comes back for is deleted eventually). Due documents are found by a Query of the sparse
index ``kept_by_due`` (``kept_queue`` = the constant, ``due_at`` <= now), never by a Scan; the
index is eventually consistent, so a document kept a moment ago may be found a moment later.
``kept_at`` (N, wall-clock nanoseconds, written only when the item is first kept) orders the due
documents of one call as they arrived.
All kept documents share one index partition: fine for documents counted in thousands that
wait for minutes, not a hot path.

Whose messages a document holds is written twice: ``customers`` (SS) on the document, and the
document's key in the item ``kept-for#<customer>`` (``keys``, SS, added to and deleted from),
so a customer's kept documents are found by one GetItem and a GetItem per document; a dropped
document's key leaves the sets of the customers it names.

Taking a due document is an update conditional on the due time the index showed: of workers
that saw the same item, one moves its due time on by the hold and gets the document; the
others' condition fails and they skip it (``dynamodb_due``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from waconnect.adapters.aws.dynamodb import (
    CLAIM_KEY,
    DUE_ATTRIBUTE,
    KEPT_QUEUE,
    SERVICE,
    TTL_ATTRIBUTE,
)
from waconnect.adapters.aws.dynamodb_due import take_due
from waconnect.adapters.aws.errors import translate_errors
from waconnect.ports import KEPT_HOLD_SECONDS, LEDGER_TTL_SECONDS, KeptDocument

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "kept#"
FOR_PREFIX = "kept-for#"
CUSTOMERS = "customers"
KEYS = "keys"
QUEUE = "kept"
DOCUMENT = "document"
KEPT_AT = "kept_at"


class DynamoDbRetryStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        hold_seconds: float = KEPT_HOLD_SECONDS,
        retention_seconds: int = LEDGER_TTL_SECONDS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._hold = hold_seconds
        self._retention = retention_seconds

    def keep(
        self, key: str, document: str, *, due_at: float, customers: Sequence[str] = ()
    ) -> None:
        ttl = {"N": str(int(due_at + self._retention))}
        for customer in customers:
            # The customer's index first: a key whose document is not there yet is skipped by
            # ``waiting``, while a document its customer could not find would not be waited for.
            self._index(customer, "ADD", key, ttl=ttl)
        names = {
            "#document": DOCUMENT,
            "#due": DUE_ATTRIBUTE,
            "#queue": KEPT_QUEUE,
            "#ttl": TTL_ATTRIBUTE,
            "#kept_at": KEPT_AT,
        }
        values: dict[str, Any] = {
            ":document": {"S": document},
            ":due": {"N": repr(due_at)},
            ":queue": {"S": QUEUE},
            ":ttl": ttl,
            ":now": {"N": str(time.time_ns())},
        }
        expression = (
            "SET #document = :document, #due = :due, #queue = :queue, #ttl = :ttl, "
            "#kept_at = if_not_exists(#kept_at, :now)"
        )
        if customers:
            expression += " ADD #customers :customers"
            names["#customers"] = CUSTOMERS
            values[":customers"] = {"SS": sorted(set(customers))}
        with translate_errors("UpdateItem", service=SERVICE):
            self._client.update_item(
                TableName=self._table,
                Key={CLAIM_KEY: {"S": PREFIX + key}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def waiting(self, customer: str) -> list[KeptDocument]:
        with translate_errors("GetItem", service=SERVICE):
            index = self._client.get_item(
                TableName=self._table,
                Key={CLAIM_KEY: {"S": FOR_PREFIX + customer}},
                ConsistentRead=True,
            ).get("Item", {})
            found = []
            for key in index.get(KEYS, {}).get("SS", []):
                item = self._client.get_item(
                    TableName=self._table,
                    Key={CLAIM_KEY: {"S": PREFIX + key}},
                    ConsistentRead=True,
                ).get("Item")
                if item is not None and DOCUMENT in item:
                    found.append(item)
        return [_kept(item) for item in sorted(found, key=_first_kept)]

    def _index(self, customer: str, action: str, key: str, *, ttl: Mapping[str, Any]) -> None:
        """``ADD`` the document ``key`` to the customer's kept keys, or ``DELETE`` it."""
        expression = f"{action} #keys :key" + (" SET #ttl = :ttl" if action == "ADD" else "")
        names = {"#keys": KEYS} | ({"#ttl": TTL_ATTRIBUTE} if action == "ADD" else {})
        values: dict[str, Any] = {":key": {"SS": [key]}}
        if action == "ADD":
            values[":ttl"] = ttl
        with translate_errors("UpdateItem", service=SERVICE):
            self._client.update_item(
                TableName=self._table,
                Key={CLAIM_KEY: {"S": FOR_PREFIX + customer}},
                UpdateExpression=expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    def due(self, now: float) -> list[KeptDocument]:
        taken = take_due(self._client, self._table, QUEUE, now=now, hold=self._hold)
        # The index holds keys only: the first-kept time comes with each taken item.
        first_kept: dict[str, int] = {}
        for item in taken:
            key = str(item[CLAIM_KEY]["S"]).removeprefix(PREFIX)
            first_kept[key] = int(item.get(KEPT_AT, {}).get("N", "0"))
        kept = [_kept(item) for item in taken]
        return sorted(kept, key=lambda document: (first_kept[document.key], document.key))

    def drop(self, key: str) -> None:
        with translate_errors("DeleteItem", service=SERVICE):
            old = self._client.delete_item(
                TableName=self._table,
                Key={CLAIM_KEY: {"S": PREFIX + key}},
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        for customer in old.get(CUSTOMERS, {}).get("SS", []):
            self._index(customer, "DELETE", key, ttl={})


def _first_kept(item: Mapping[str, Any]) -> tuple[int, str]:
    return int(item.get(KEPT_AT, {}).get("N", "0")), str(item[CLAIM_KEY]["S"])


def _kept(item: Mapping[str, Any]) -> KeptDocument:
    return KeptDocument(
        key=str(item[CLAIM_KEY]["S"]).removeprefix(PREFIX),
        document=str(item[DOCUMENT]["S"]),
        due_at=float(item[DUE_ATTRIBUTE]["N"]),
    )
