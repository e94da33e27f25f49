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

Taking a due document is an update conditional on the due time the index showed: of workers
that saw the same item, one moves its due time on by the hold and gets the document; the
others' condition fails and they skip it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from waconnect.adapters.aws.dynamodb import (
    CLAIM_KEY,
    DUE_ATTRIBUTE,
    KEPT_INDEX,
    KEPT_QUEUE,
    SERVICE,
    TTL_ATTRIBUTE,
)
from waconnect.adapters.aws.errors import translate_errors
from waconnect.ports import KEPT_HOLD_SECONDS, LEDGER_TTL_SECONDS, KeptDocument

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "kept#"
QUEUE = "kept"
DOCUMENT = "document"
KEPT_AT = "kept_at"
# At most this many documents per call of ``due``: the rest wait for the next call.
DUE_BATCH = 100


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

    def keep(self, key: str, document: str, *, due_at: float) -> None:
        with translate_errors("UpdateItem", service=SERVICE):
            self._client.update_item(
                TableName=self._table,
                Key={CLAIM_KEY: {"S": PREFIX + key}},
                UpdateExpression=(
                    "SET #document = :document, #due = :due, #queue = :queue, #ttl = :ttl, "
                    "#kept_at = if_not_exists(#kept_at, :now)"
                ),
                ExpressionAttributeNames={
                    "#document": DOCUMENT,
                    "#due": DUE_ATTRIBUTE,
                    "#queue": KEPT_QUEUE,
                    "#ttl": TTL_ATTRIBUTE,
                    "#kept_at": KEPT_AT,
                },
                ExpressionAttributeValues={
                    ":document": {"S": document},
                    ":due": {"N": repr(due_at)},
                    ":queue": {"S": QUEUE},
                    ":ttl": {"N": str(int(due_at + self._retention))},
                    ":now": {"N": str(time.time_ns())},
                },
            )

    def due(self, now: float) -> list[KeptDocument]:
        with translate_errors("Query", service=SERVICE):
            response = self._client.query(
                TableName=self._table,
                IndexName=KEPT_INDEX,
                KeyConditionExpression="#queue = :queue AND #due <= :now",
                ExpressionAttributeNames={"#queue": KEPT_QUEUE, "#due": DUE_ATTRIBUTE},
                ExpressionAttributeValues={":queue": {"S": QUEUE}, ":now": {"N": repr(now)}},
                ScanIndexForward=True,
                Limit=DUE_BATCH,
            )
        taken = []
        # The index holds keys only: the first-kept time comes with each taken item.
        first_kept: dict[str, int] = {}
        for seen in response.get("Items", []):
            item = self._take(seen, now)
            if item is not None:
                key = str(item[CLAIM_KEY]["S"]).removeprefix(PREFIX)
                first_kept[key] = int(item.get(KEPT_AT, {}).get("N", "0"))
                taken.append(
                    KeptDocument(
                        key=key,
                        document=str(item[DOCUMENT]["S"]),
                        due_at=float(item[DUE_ATTRIBUTE]["N"]),
                    )
                )
        return sorted(taken, key=lambda kept: (first_kept[kept.key], kept.key))

    def _take(self, seen: Mapping[str, Any], now: float) -> Mapping[str, Any] | None:
        """The item as it was before this worker took it; None when another got there first."""
        with translate_errors("UpdateItem", service=SERVICE):
            try:
                response = self._client.update_item(
                    TableName=self._table,
                    Key={CLAIM_KEY: seen[CLAIM_KEY]},
                    UpdateExpression="SET #due = :until",
                    ConditionExpression="#due = :seen",
                    ExpressionAttributeNames={"#due": DUE_ATTRIBUTE},
                    ExpressionAttributeValues={
                        ":seen": seen[DUE_ATTRIBUTE],
                        ":until": {"N": repr(now + self._hold)},
                    },
                    ReturnValues="ALL_OLD",
                )
            except ClientError as exc:
                # Taken, moved or dropped since the index showed it: not this worker's.
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    return None
                raise
        return response.get("Attributes")

    def drop(self, key: str) -> None:
        with translate_errors("DeleteItem", service=SERVICE):
            self._client.delete_item(TableName=self._table, Key={CLAIM_KEY: {"S": PREFIX + key}})
