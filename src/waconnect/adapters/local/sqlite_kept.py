"""RetryStore in the bridge's SQLite file: documents waiting to be handed in again.

One row per document (``kept``: key, document, due time), in the same database as the sessions
and the ledger, so a restarted process finds what its predecessor kept; one row per customer
whose messages it holds (``kept_for``), so a customer's kept documents are found at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from waconnect.adapters.local.sqlite_database import SqliteDatabase, database
from waconnect.ports import KEPT_HOLD_SECONDS, KeptDocument

# At most this many documents per call of ``due``: the rest wait for the next call.
DUE_BATCH = 100


class SqliteRetryStore:
    def __init__(
        self, target: str | Path | SqliteDatabase, *, hold_seconds: float = KEPT_HOLD_SECONDS
    ) -> None:
        self._db = database(target)
        self._hold = hold_seconds

    def keep(
        self, key: str, document: str, *, due_at: float, customers: Sequence[str] = ()
    ) -> None:
        with self._db.connection("keep document") as connection:
            connection.execute(
                "INSERT INTO kept (key, document, due_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at",
                (key, document, due_at),
            )
            connection.executemany(
                "INSERT OR IGNORE INTO kept_for (customer, key) VALUES (?, ?)",
                [(customer, key) for customer in customers],
            )

    def waiting(self, customer: str) -> list[KeptDocument]:
        with self._db.connection("kept documents of a customer") as connection:
            rows = connection.execute(
                "SELECT kept.key, document, due_at FROM kept JOIN kept_for "
                "ON kept_for.key = kept.key WHERE customer = ? ORDER BY seq",
                (customer,),
            ).fetchall()
        return [
            KeptDocument(key=row["key"], document=row["document"], due_at=float(row["due_at"]))
            for row in rows
        ]

    def due(self, now: float) -> list[KeptDocument]:
        with self._db.connection("due documents") as connection:
            rows = connection.execute(
                "SELECT key, document, due_at FROM kept WHERE due_at <= ? ORDER BY seq LIMIT ?",
                (now, DUE_BATCH),
            ).fetchall()
            taken = []
            for row in rows:
                # Autocommit: each update is atomic; the due time it read still being there
                # means no other process took the row in between.
                moved = connection.execute(
                    "UPDATE kept SET due_at = ? WHERE key = ? AND due_at = ?",
                    (now + self._hold, row["key"], row["due_at"]),
                )
                if moved.rowcount == 1:
                    taken.append(
                        KeptDocument(
                            key=row["key"], document=row["document"], due_at=float(row["due_at"])
                        )
                    )
        return taken

    def drop(self, key: str) -> None:
        with self._db.connection("drop document") as connection:
            # Each statement commits alone: ``waiting`` joins both tables, so a document half
            # kept or half dropped is not waited for.
            connection.execute("DELETE FROM kept WHERE key = ?", (key,))
            connection.execute("DELETE FROM kept_for WHERE key = ?", (key,))

    def close(self) -> None:
        self._db.close()
