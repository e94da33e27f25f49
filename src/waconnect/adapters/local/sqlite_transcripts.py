"""TranscriptJobs and TranscriptChecks in the bridge's SQLite file: voice notes waiting for their
transcript, and when to look at a job whose end was not heard.

One row per job (``transcript_jobs``: job name, the record as JSON, when it started), in the
same database as the sessions and the ledger, so whichever process hears of the job's end finds
it. A job still to be checked has a row in ``transcript_checks`` (job, when). Rows older than the
retention are ignored and deleted as new ones are written, but for a job still to be checked:
its check finds it too old and forgets it, saying so.
"""

from __future__ import annotations

from pathlib import Path

from waconnect.adapters.local.sqlite_database import SqliteDatabase, database
from waconnect.adapters.transcript_codec import pending_from_text, pending_to_text
from waconnect.ports import (
    KEPT_HOLD_SECONDS,
    LEDGER_TTL_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    Clock,
    PendingTranscript,
)

# At most this many jobs per call of ``due``: the rest wait for the next call.
DUE_BATCH = 100


class SqliteTranscriptJobs:
    def __init__(
        self,
        target: str | Path | SqliteDatabase,
        clock: Clock,
        *,
        retention_seconds: float = LEDGER_TTL_SECONDS,
        check_after_seconds: float | None = TRANSCRIPT_CHECK_SECONDS,
        hold_seconds: float = KEPT_HOLD_SECONDS,
    ) -> None:
        """``check_after_seconds``: when a remembered job is first checked; None: never (its
        checks come from elsewhere)."""
        self._db = database(target)
        self._clock = clock
        self._retention = retention_seconds
        self._check_after = check_after_seconds
        self._hold = hold_seconds

    def remember(self, pending: PendingTranscript) -> None:
        with self._db.connection("remember transcript job") as connection:
            connection.execute(
                "INSERT INTO transcript_jobs (job, record, started_at) VALUES (?, ?, ?) "
                "ON CONFLICT (job) DO UPDATE SET record = excluded.record, "
                "started_at = excluded.started_at",
                (pending.job, pending_to_text(pending), pending.started_at),
            )
            if self._check_after is not None:
                connection.execute(
                    "INSERT INTO transcript_checks (job, check_at) VALUES (?, ?) "
                    "ON CONFLICT (job) DO UPDATE SET check_at = excluded.check_at",
                    (pending.job, pending.started_at + self._check_after),
                )
            connection.execute(
                "DELETE FROM transcript_jobs WHERE started_at < ? "
                "AND job NOT IN (SELECT job FROM transcript_checks)",
                (self._clock.now() - self._retention,),
            )

    def find(self, job: str) -> PendingTranscript | None:
        with self._db.connection("find transcript job") as connection:
            row = connection.execute(
                "SELECT record FROM transcript_jobs WHERE job = ? AND started_at >= ?",
                (job, self._clock.now() - self._retention),
            ).fetchone()
        return None if row is None else pending_from_text(row["record"])

    def due(self, now: float) -> list[PendingTranscript]:
        with self._db.connection("due transcript checks") as connection:
            rows = connection.execute(
                "SELECT transcript_checks.job, check_at, record FROM transcript_checks "
                "JOIN transcript_jobs ON transcript_jobs.job = transcript_checks.job "
                "WHERE check_at <= ? ORDER BY check_at LIMIT ?",
                (now, DUE_BATCH),
            ).fetchall()
            taken = []
            for row in rows:
                # Autocommit: the check time it read still being there means no other process
                # took the job in between.
                moved = connection.execute(
                    "UPDATE transcript_checks SET check_at = ? WHERE job = ? AND check_at = ?",
                    (now + self._hold, row[0], row["check_at"]),
                )
                if moved.rowcount == 1:
                    taken.append(pending_from_text(row["record"]))
        return taken

    def check_later(self, job: str, at: float) -> None:
        with self._db.connection("check transcript job later") as connection:
            connection.execute("UPDATE transcript_checks SET check_at = ? WHERE job = ?", (at, job))

    def stop_checking(self, job: str) -> None:
        with self._db.connection("stop checking transcript job") as connection:
            connection.execute("DELETE FROM transcript_checks WHERE job = ?", (job,))

    def close(self) -> None:
        self._db.close()
