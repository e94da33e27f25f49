"""Work that is due, found in the ledger table's sparse index ``kept_by_due`` and taken by one
worker: the kept documents (``dynamodb_kept``) and the transcription jobs to check
(``dynamodb_transcript_checks``), each kind in a partition of its own (``kept_queue``).

The index holds keys only and is eventually consistent. Each item it shows is taken by an update
conditional on the due time the index showed, moving it on by the hold: of workers that saw the
same item, one gets it (and the item as it was); the others' condition fails and they skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from waconnect.adapters.aws.dynamodb import (
    CLAIM_KEY,
    DUE_ATTRIBUTE,
    KEPT_INDEX,
    KEPT_QUEUE,
    SERVICE,
)
from waconnect.adapters.aws.errors import translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# At most this many items per call: the rest wait for the next call.
DUE_BATCH = 100


def take_due(
    client: DynamoDBClient, table: str, queue: str, *, now: float, hold: float
) -> list[Mapping[str, Any]]:
    """The items of ``queue`` due at ``now`` that this worker took, as they were, earliest
    first; each is not due again for ``hold`` seconds unless its owner moves it."""
    with translate_errors("Query", service=SERVICE):
        response = client.query(
            TableName=table,
            IndexName=KEPT_INDEX,
            KeyConditionExpression="#queue = :queue AND #due <= :now",
            ExpressionAttributeNames={"#queue": KEPT_QUEUE, "#due": DUE_ATTRIBUTE},
            ExpressionAttributeValues={":queue": {"S": queue}, ":now": {"N": repr(now)}},
            ScanIndexForward=True,
            Limit=DUE_BATCH,
        )
    taken = []
    for seen in response.get("Items", []):
        item = update_if(
            client,
            table,
            seen[CLAIM_KEY],
            "SET #due = :until",
            condition="#due = :seen",
            names={"#due": DUE_ATTRIBUTE},
            values={":seen": seen[DUE_ATTRIBUTE], ":until": {"N": repr(now + hold)}},
        )
        if item is not None:
            taken.append(item)
    return taken


def update_if(
    client: DynamoDBClient,
    table: str,
    key: Any,
    expression: str,
    *,
    condition: str,
    names: Mapping[str, str],
    values: Mapping[str, Any] | None = None,
) -> Mapping[str, Any] | None:
    """Update the item ``key`` (a ``claim_key`` value) when ``condition`` holds: the item as it
    was, or None when the condition failed (taken, moved or gone since it was seen)."""
    params: dict[str, Any] = {
        "TableName": table,
        "Key": {CLAIM_KEY: key},
        "UpdateExpression": expression,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": dict(names),
        "ReturnValues": "ALL_OLD",
    }
    if values:
        params["ExpressionAttributeValues"] = dict(values)
    with translate_errors("UpdateItem", service=SERVICE):
        try:
            response = client.update_item(**params)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return None
            raise
    return response.get("Attributes")
