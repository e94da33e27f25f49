"""TranscriptJobs in the bridge's SQLite file: voice notes waiting for their transcript.

One row per job (``transcript_jobs``: job name, the record as JSON, when it started), in the
same database as the sessions and the ledger, so whichever process hears of the job's end finds
it. Rows older than the retention are ignored and deleted as new ones are written.
"""

from __future__ import annotations

from pathlib import Path

from waconnect.adapters.local.sqlite import SqliteDatabase, database
from waconnect.adapters.transcript_codec import pending_from_text, pending_to_text
from waconnect.ports import LEDGER_TTL_SECONDS, Clock, PendingTranscript


class SqliteTranscriptJobs:
    def __init__(
        self,
        target: str | Path | SqliteDatabase,
        clock: Clock,
        *,
        retention_seconds: float = LEDGER_TTL_SECONDS,
    ) -> None:
        self._db = database(target)
        self._clock = clock
        self._retention = retention_seconds

    def remember(self, pending: PendingTranscript) -> None:
        with self._db.connection("remember transcript job") as connection:
            connection.execute(
                "INSERT INTO transcript_jobs (job, record, started_at) VALUES (?, ?, ?) "
                "ON CONFLICT (job) DO UPDATE SET record = excluded.record, "
                "started_at = excluded.started_at",
                (pending.job, pending_to_text(pending), pending.started_at),
            )
            connection.execute(
                "DELETE FROM transcript_jobs WHERE started_at < ?",
                (self._clock.now() - self._retention,),
            )

    def find(self, job: str) -> PendingTranscript | None:
        with self._db.connection("find transcript job") as connection:
            row = connection.execute(
                "SELECT record FROM transcript_jobs WHERE job = ? AND started_at >= ?",
                (job, self._clock.now() - self._retention),
            ).fetchone()
        return None if row is None else pending_from_text(row["record"])

    def close(self) -> None:
        self._db.close()
