"""The Ledger over DynamoDB: claims and leases as conditional puts on the ledger table.

The table's shape (``claim_key``, ``claimed_at``, ``lease_until``, ``expires_at`` as TTL) is
described with its definition in ``dynamodb``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from waconnect.adapters.aws.dynamodb import CLAIM_KEY, LEASE_ATTRIBUTE, SERVICE, TTL_ATTRIBUTE
from waconnect.adapters.aws.errors import translate_errors
from waconnect.errors import Kind, TransientError
from waconnect.ports import LEDGER_TTL_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from waconnect.ports import Clock, LeaseState

logger = logging.getLogger(__name__)

# BatchGetItem reads at most 100 keys per request, BatchWriteItem writes at most 25 items.
BATCH_GET_KEYS = 100
BATCH_WRITE_ITEMS = 25
# Requests for what DynamoDB left unprocessed (throttled) before giving up for now.
BATCH_WRITE_ATTEMPTS = 3


class DynamoDbLedger:
    """Claims as conditional puts; an item past ``expires_at``, or past its lease, counts as free.

    One write decides, as the Powertools idempotency persistence layer does: the put succeeds
    when the key is free, and when it fails DynamoDB returns the item that stopped it
    (``ReturnValuesOnConditionCheckFailure``), which says whether that is a live lease or done.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Clock,
        *,
        ttl_seconds: int = LEDGER_TTL_SECONDS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._ttl = ttl_seconds

    def claim(self, key: str) -> bool:
        return self._take(key, lease_until=0.0) is None

    def lease(self, key: str, *, seconds: float) -> LeaseState:
        now = self._clock.now()
        holder = self._take(key, lease_until=now + seconds)
        if holder is None:
            return "taken"
        if not holder:
            # No item came back with the refusal: read it (released meanwhile reads as held).
            with translate_errors("GetItem", service=SERVICE):
                holder = self._client.get_item(
                    TableName=self._table, Key={CLAIM_KEY: {"S": key}}, ConsistentRead=True
                ).get("Item", {})
        lease_until = float(holder.get(LEASE_ATTRIBUTE, {}).get("N", "0"))
        return "held" if not holder or lease_until > now else "done"

    def finish(self, *keys: str) -> None:
        if len(keys) == 1:
            with translate_errors("PutItem", service=SERVICE):
                self._client.put_item(
                    TableName=self._table, Item=self._item(keys[0], lease_until=0.0)
                )
            return
        for chunk in _slices(list(dict.fromkeys(keys)), BATCH_WRITE_ITEMS):
            self._put_all([self._item(key, lease_until=0.0) for key in chunk])

    def _put_all(self, items: list[dict[str, AttributeValueTypeDef]]) -> None:
        """BatchWriteItem, sending again what DynamoDB left unprocessed (throttled)."""
        requests: list[Any] = [{"PutRequest": {"Item": item}} for item in items]
        for _ in range(BATCH_WRITE_ATTEMPTS):
            with translate_errors("BatchWriteItem", service=SERVICE):
                answer = self._client.batch_write_item(RequestItems={self._table: requests})
            unprocessed: Mapping[str, Any] = answer.get("UnprocessedItems", {})
            requests = list(unprocessed.get(self._table, []))
            if not requests:
                return
        raise TransientError(
            f"BatchWriteItem: {len(requests)} claims left unprocessed",
            operation="BatchWriteItem",
            code="UnprocessedItems",
            kind=Kind.THROTTLED,
        )

    def release(self, key: str) -> None:
        with translate_errors("DeleteItem", service=SERVICE):
            self._client.delete_item(TableName=self._table, Key={CLAIM_KEY: {"S": key}})

    def finished(self, keys: Sequence[str], *, consistent: bool = False) -> set[str]:
        """BatchGetItem, eventually consistent unless ``consistent`` (half the read cost): a key
        finished a moment ago may be missed, as the port allows. Keys DynamoDB leaves
        unprocessed (throttled) are read again when ``consistent``, else not named."""
        now = self._clock.now()
        found: set[str] = set()
        pending = _slices(list(dict.fromkeys(keys)), BATCH_GET_KEYS)
        attempts = 0
        while pending:
            chunk = pending.pop(0)
            with translate_errors("BatchGetItem", service=SERVICE):
                answer = self._client.batch_get_item(
                    RequestItems={
                        self._table: {
                            "Keys": [{CLAIM_KEY: {"S": key}} for key in chunk],
                            "ConsistentRead": consistent,
                            "ProjectionExpression": "#key, #lease, #expires",
                            "ExpressionAttributeNames": {
                                "#key": CLAIM_KEY,
                                "#lease": LEASE_ATTRIBUTE,
                                "#expires": TTL_ATTRIBUTE,
                            },
                        }
                    }
                )
            for item in answer.get("Responses", {}).get(self._table, []):
                if _number(item, LEASE_ATTRIBUTE, "1") == 0 and _number(item, TTL_ATTRIBUTE) > now:
                    found.add(str(item[CLAIM_KEY]["S"]))
            unread: Mapping[str, Any] = answer.get("UnprocessedKeys", {})
            left = unread.get(self._table, {}).get("Keys", [])
            if left and not consistent:
                logger.info("claims not read (throttled): they are looked at later, when taken")
            elif left:
                attempts += 1
                if attempts >= BATCH_WRITE_ATTEMPTS:
                    raise TransientError(
                        f"BatchGetItem: {len(left)} claims left unread",
                        operation="BatchGetItem",
                        code="UnprocessedKeys",
                        kind=Kind.THROTTLED,
                    )
                pending.append([str(key[CLAIM_KEY]["S"]) for key in left])
        return found

    def _item(self, key: str, *, lease_until: float) -> dict[str, AttributeValueTypeDef]:
        now = self._clock.now()
        return {
            CLAIM_KEY: {"S": key},
            "claimed_at": {"N": repr(now)},
            LEASE_ATTRIBUTE: {"N": repr(lease_until)},
            TTL_ATTRIBUTE: {"N": str(int(now + self._ttl))},
        }

    def _take(self, key: str, *, lease_until: float) -> Mapping[str, Any] | None:
        """None when taken; else the item that holds the key ({} when DynamoDB sent none)."""
        now = self._clock.now()
        with translate_errors("PutItem", service=SERVICE):
            try:
                self._client.put_item(
                    TableName=self._table,
                    Item=self._item(key, lease_until=lease_until),
                    ConditionExpression=(
                        "attribute_not_exists(#key) OR #expires <= :now "
                        "OR (#lease > :zero AND #lease <= :now)"
                    ),
                    ExpressionAttributeNames={
                        "#key": CLAIM_KEY,
                        "#expires": TTL_ATTRIBUTE,
                        "#lease": LEASE_ATTRIBUTE,
                    },
                    ExpressionAttributeValues={":now": {"N": repr(now)}, ":zero": {"N": "0"}},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                # Losing the race is an answer, not a failure.
                if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                    item = exc.response.get("Item", {})
                    return item if isinstance(item, Mapping) else {}
                raise
        return None


def _number(item: Mapping[str, Any], name: str, default: str = "0") -> float:
    return float(item.get(name, {}).get("N", default))


def _slices(values: list[str], size: int) -> list[list[str]]:
    return [values[start : start + size] for start in range(0, len(values), size)]
