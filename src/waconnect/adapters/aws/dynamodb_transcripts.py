"""TranscriptJobs and TranscriptChecks in the ledger table: voice notes waiting for their
transcript, on DynamoDB.

Each job is one item ``transcript#<job name>`` (the prefix keeps it apart from claims and kept
documents) holding the record as JSON (``record``), ``started_at`` (N) and ``expires_at`` (N, the
table's TTL attribute). TTL deletes late, so a read ignores an item past its retention. Reads
are consistent: the job's end may be heard a moment after it started, on another worker.

Where the jobs are also checked from the state (the server shape), the items carry their check
times too: ``dynamodb_transcript_checks``. The Lambda shape's checks come from its queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from waconnect.adapters.aws.dynamodb import CLAIM_KEY, SERVICE, TTL_ATTRIBUTE
from waconnect.adapters.aws.errors import translate_errors
from waconnect.adapters.transcript_codec import pending_from_text, pending_to_text
from waconnect.ports import LEDGER_TTL_SECONDS, Clock, PendingTranscript

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PREFIX = "transcript#"
RECORD = "record"
STARTED_AT = "started_at"


class DynamoDbTranscriptJobs:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Clock,
        *,
        retention_seconds: int = LEDGER_TTL_SECONDS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock
        self._retention = retention_seconds

    def remember(self, pending: PendingTranscript) -> None:
        with translate_errors("PutItem", service=SERVICE):
            self._client.put_item(TableName=self._table, Item=self._item(pending))

    def _item(self, pending: PendingTranscript) -> dict[str, Any]:
        return {
            CLAIM_KEY: {"S": PREFIX + pending.job},
            RECORD: {"S": pending_to_text(pending)},
            STARTED_AT: {"N": repr(pending.started_at)},
            TTL_ATTRIBUTE: {"N": str(int(pending.started_at + self._retention))},
        }

    def find(self, job: str) -> PendingTranscript | None:
        with translate_errors("GetItem", service=SERVICE):
            item = self._client.get_item(
                TableName=self._table, Key={CLAIM_KEY: {"S": PREFIX + job}}, ConsistentRead=True
            ).get("Item")
        if item is None or float(item[STARTED_AT]["N"]) < self._clock.now() - self._retention:
            return None
        return pending_from_text(str(item[RECORD]["S"]))
