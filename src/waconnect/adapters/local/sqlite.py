"""SessionStore, Ledger and MessageLog in one SQLite file, safe across threads and processes.

The file and its connections are ``sqlite_database``'s: WAL mode, a busy timeout, a connection
per thread, and SQLite's errors as waconnect's. Every write is a single statement, so atomicity
is SQLite's.

A claim is ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``: the row is created by the first
claimant, taken over only once older than the retention, and left alone otherwise; SQLite's count
of changed rows says who won. Expired rows are purged lazily, at most once per purge interval.

A session save is monotonic: ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the stored generation
is not newer, so a process still holding an old chat can never overwrite the customer's new one.

The message log keeps one row per wamid; the customer's latest is the newest row of their session
(ties go to the row written last, which ``INSERT OR REPLACE`` gives the highest rowid).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.adapters.local.sqlite_database import SqliteDatabase
from waconnect.adapters.local.sqlite_database import database as _database
from waconnect.adapters.session_codec import FIELDS, session_from_record, session_to_record
from waconnect.domain.session import SessionKey
from waconnect.ports import LEDGER_TTL_SECONDS, MESSAGE_LOG_TTL_SECONDS, LoggedMessage

if TYPE_CHECKING:
    from waconnect.domain.session import ChatSession
    from waconnect.ports import Clock, LeaseState

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600.0
_COLUMNS = ", ".join(name for name, _ in FIELDS)


_SAVE_SESSION = (
    f"INSERT INTO sessions ({_COLUMNS}) VALUES ({', '.join('?' for _ in FIELDS)}) "  # noqa: S608
    "ON CONFLICT (session_key) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name, _ in FIELDS if name != "session_key")
    + " WHERE excluded.generation >= sessions.generation"
)


class SqliteSessionStore:
    """Sessions keyed by ``str(SessionKey)``, indexed by contact id."""

    def __init__(self, database: str | Path | SqliteDatabase) -> None:
        self._db = _database(database)

    def get(self, key: SessionKey) -> ChatSession | None:
        with self._db.connection("get session") as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE session_key = COALESCE("  # noqa: S608
                "(SELECT session_key FROM session_aliases WHERE alias = ?), ?)",
                (str(key), str(key)),
            ).fetchone()
        return None if row is None else session_from_record(dict(row))

    def link(self, alias: SessionKey, key: SessionKey) -> None:
        with self._db.connection("link session") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO session_aliases (alias, session_key) VALUES (?, ?)",
                (str(alias), str(key)),
            )

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        with self._db.connection("find session by contact") as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE contact_id = ? "  # noqa: S608
                "ORDER BY started_at DESC LIMIT 1",
                (contact_id,),
            ).fetchone()
        return None if row is None else session_from_record(dict(row))

    def save(self, session: ChatSession) -> bool:
        record = session_to_record(session)
        with self._db.connection("save session") as connection:
            cursor = connection.execute(_SAVE_SESSION, tuple(record[name] for name, _ in FIELDS))
        stored = cursor.rowcount == 1
        if not stored:
            logger.info(
                "kept a newer session instead of generation %d of contact %s",
                session.generation,
                session.contact_id,
            )
        return stored

    def close(self) -> None:
        self._db.close()


class SqliteLedger:
    """Claims of work, each kept for ``ttl_seconds`` (7 days by default) once done.

    A row's ``lease_until`` is 0 once the work is done, else the end of the holder's lease.
    Taking a key is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` free; SQLite's count of
    changed rows says who won.
    """

    def __init__(
        self,
        database: str | Path | SqliteDatabase,
        clock: Clock,
        *,
        ttl_seconds: float = LEDGER_TTL_SECONDS,
    ) -> None:
        self._db = _database(database)
        self._clock = clock
        self._ttl = ttl_seconds
        self._next_purge = 0.0

    def claim(self, key: str) -> bool:
        return self._take(key, lease_until=0.0, operation="claim")

    def lease(self, key: str, *, seconds: float) -> LeaseState:
        now = self._clock.now()
        if self._take(key, lease_until=now + seconds, operation="lease"):
            return "taken"
        with self._db.connection("read lease") as connection:
            row = connection.execute(
                "SELECT lease_until FROM claims WHERE key = ?", (key,)
            ).fetchone()
        # Gone between the two statements (released): the caller may simply try again later.
        return "held" if row is None or float(row["lease_until"]) > now else "done"

    def finish(self, *keys: str) -> None:
        now = self._clock.now()
        with self._db.connection("finish claim") as connection:
            connection.executemany(
                "INSERT INTO claims (key, claimed_at, lease_until) VALUES (?, ?, 0) "
                "ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, lease_until = 0",
                [(key, now) for key in keys],
            )

    def release(self, key: str) -> None:
        with self._db.connection("release claim") as connection:
            connection.execute("DELETE FROM claims WHERE key = ?", (key,))

    def finished(self, keys: Sequence[str], *, consistent: bool = False) -> set[str]:
        marks = ", ".join("?" * len(keys))
        with self._db.connection("read claims") as connection:
            rows = connection.execute(
                f"SELECT key FROM claims WHERE key IN ({marks}) "  # noqa: S608 (marks only)
                "AND lease_until = 0 AND claimed_at > ?",
                (*keys, self._clock.now() - self._ttl),
            ).fetchall()
        return {str(row["key"]) for row in rows}

    def _take(self, key: str, *, lease_until: float, operation: str) -> bool:
        now = self._clock.now()
        expired_before = now - self._ttl
        with self._db.connection(operation) as connection:
            cursor = connection.execute(
                "INSERT INTO claims (key, claimed_at, lease_until) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at, "
                "lease_until = excluded.lease_until "
                "WHERE claims.claimed_at <= ? "
                "OR (claims.lease_until > 0 AND claims.lease_until <= ?)",
                (key, now, lease_until, expired_before, now),
            )
            won = cursor.rowcount == 1
            if now >= self._next_purge:
                self._next_purge = now + PURGE_INTERVAL_SECONDS
                purged = connection.execute(
                    "DELETE FROM claims WHERE claimed_at <= ?", (expired_before,)
                ).rowcount
                if purged:
                    logger.debug("purged %d expired claims", purged)
        return won

    def close(self) -> None:
        self._db.close()


class SqliteMessageLog:
    """Messages by wamid, each kept for ``ttl_seconds`` (7 days by default)."""

    def __init__(
        self,
        database: str | Path | SqliteDatabase,
        clock: Clock,
        *,
        ttl_seconds: float = MESSAGE_LOG_TTL_SECONDS,
    ) -> None:
        self._db = _database(database)
        self._clock = clock
        self._ttl = ttl_seconds
        self._next_purge = 0.0

    def remember(self, entry: LoggedMessage) -> None:
        now = self._clock.now()
        with self._db.connection("remember message") as connection:
            connection.execute(
                "INSERT OR REPLACE INTO messages "
                "(wamid, business_number, customer, author, snippet, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    entry.wamid,
                    entry.key.business_number,
                    entry.key.customer,
                    entry.author,
                    entry.snippet,
                    entry.at,
                ),
            )
            if now >= self._next_purge:
                self._next_purge = now + PURGE_INTERVAL_SECONDS
                purged = connection.execute(
                    "DELETE FROM messages WHERE at <= ?", (now - self._ttl,)
                ).rowcount
                if purged:
                    logger.debug("purged %d expired messages", purged)

    def recall(self, wamid: str) -> LoggedMessage | None:
        with self._db.connection("recall message") as connection:
            row = connection.execute(
                "SELECT wamid, business_number, customer, author, snippet, at FROM messages "
                "WHERE wamid = ? AND at > ?",
                (wamid, self._clock.now() - self._ttl),
            ).fetchone()
        if row is None:
            return None
        return LoggedMessage(
            wamid=row["wamid"],
            key=SessionKey(business_number=row["business_number"], customer=row["customer"]),
            author="agent" if row["author"] == "agent" else "customer",
            snippet=row["snippet"],
            at=float(row["at"]),
        )

    def latest_from_customer(self, key: SessionKey) -> str:
        with self._db.connection("latest message") as connection:
            row = connection.execute(
                "SELECT wamid FROM messages WHERE business_number = ? AND customer = ? "
                "AND author = 'customer' AND at > ? ORDER BY at DESC, rowid DESC LIMIT 1",
                (key.business_number, key.customer, self._clock.now() - self._ttl),
            ).fetchone()
        return "" if row is None else str(row["wamid"])

    def close(self) -> None:
        self._db.close()
