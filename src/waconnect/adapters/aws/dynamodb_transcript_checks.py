"""TranscriptJobs and TranscriptChecks in the ledger table: the server shape's jobs on DynamoDB,
each with the time to look at it in case its end is never announced.

A job still to be checked carries, beside its record (``dynamodb_transcripts``), ``kept_queue`` =
``transcript-checks`` and ``due_at`` (its check time). They put it in the sparse index
``kept_by_due`` beside the kept documents, in a partition of its own: due checks are found by a
Query, never a Scan, and taken as kept documents are (``dynamodb_due``). ``stop_checking``
removes both attributes. No update ever creates an item: each is conditional on the job's item
being there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waconnect.adapters.aws.dynamodb import CLAIM_KEY, DUE_ATTRIBUTE, KEPT_QUEUE
from waconnect.adapters.aws.dynamodb_due import take_due, update_if
from waconnect.adapters.aws.dynamodb_transcripts import PREFIX, RECORD, DynamoDbTranscriptJobs
from waconnect.adapters.transcript_codec import pending_from_text
from waconnect.ports import (
    KEPT_HOLD_SECONDS,
    LEDGER_TTL_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    Clock,
    PendingTranscript,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CHECKS = "transcript-checks"


class DynamoDbCheckedTranscriptJobs(DynamoDbTranscriptJobs):
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Clock,
        *,
        retention_seconds: int = LEDGER_TTL_SECONDS,
        check_after_seconds: float = TRANSCRIPT_CHECK_SECONDS,
        hold_seconds: float = KEPT_HOLD_SECONDS,
    ) -> None:
        """``check_after_seconds``: when a remembered job is first checked."""
        super().__init__(client, table_name, clock, retention_seconds=retention_seconds)
        self._check_after = check_after_seconds
        self._hold = hold_seconds

    def _item(self, pending: PendingTranscript) -> dict[str, Any]:
        item = super()._item(pending)
        item[KEPT_QUEUE] = {"S": CHECKS}
        item[DUE_ATTRIBUTE] = {"N": repr(pending.started_at + self._check_after)}
        return item

    def due(self, now: float) -> list[PendingTranscript]:
        taken = take_due(self._client, self._table, CHECKS, now=now, hold=self._hold)
        return [pending_from_text(str(item[RECORD]["S"])) for item in taken]

    def check_later(self, job: str, at: float) -> None:
        update_if(
            self._client,
            self._table,
            {"S": PREFIX + job},
            "SET #due = :at",
            condition=f"attribute_exists({CLAIM_KEY}) AND attribute_exists(#due)",
            names={"#due": DUE_ATTRIBUTE},
            values={":at": {"N": repr(at)}},
        )

    def stop_checking(self, job: str) -> None:
        update_if(
            self._client,
            self._table,
            {"S": PREFIX + job},
            "REMOVE #due, #queue",
            condition=f"attribute_exists({CLAIM_KEY})",
            names={"#due": DUE_ATTRIBUTE, "#queue": KEPT_QUEUE},
        )
