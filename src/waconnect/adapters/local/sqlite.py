"""SessionStore, Ledger and MessageLog in one SQLite file, safe across threads and processes.

The file runs in WAL mode (readers never block the writer) with a busy timeout, so several bridge
processes may share it. Each thread gets its own connection; ``":memory:"`` gives one private
database behind a lock (tests). Every write is a single statement, so atomicity is SQLite's.

A claim is ``INSERT ... ON CONFLICT DO UPDATE ... WHERE expired``: the row is created by the first
claimant, taken over only once older than the retention, and left alone otherwise; SQLite's count
of changed rows says who won. Expired rows are purged lazily, at most once per purge interval.

The message log keeps one row per wamid; the customer's latest is the newest row of their session
(ties go to the row written last, which ``INSERT OR REPLACE`` gives the highest rowid).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.adapters.session_codec import FIELDS, session_from_record, session_to_record
from waconnect.domain.session import SessionKey
from waconnect.ports import LEDGER_TTL_SECONDS, MESSAGE_LOG_TTL_SECONDS, LoggedMessage

if TYPE_CHECKING:
    from waconnect.domain.session import ChatSession
    from waconnect.ports import Clock

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
PURGE_INTERVAL_SECONDS = 3600.0
MEMORY = ":memory:"

_SQL_TYPES = {str: "TEXT", float: "REAL", int: "INTEGER", bool: "INTEGER"}
_COLUMNS = ", ".join(name for name, _ in FIELDS)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions ("
    + ", ".join(f"{name} {_SQL_TYPES[kind]} NOT NULL" for name, kind in FIELDS)
    + ", PRIMARY KEY (session_key))",
    "CREATE INDEX IF NOT EXISTS sessions_by_contact ON sessions (contact_id)",
    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS claims_by_age ON claims (claimed_at)",
    "CREATE TABLE IF NOT EXISTS messages (wamid TEXT PRIMARY KEY, business_number TEXT NOT NULL, "
    "customer TEXT NOT NULL, author TEXT NOT NULL, snippet TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_customer "
    "ON messages (business_number, customer, author, at)",
    "CREATE INDEX IF NOT EXISTS messages_by_age ON messages (at)",
)


class SqliteDatabase:
    """Connections to one SQLite file: one per thread, opened on first use and set up once."""

    def __init__(self, path: str | Path) -> None:
        self._path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        self._shared: sqlite3.Connection | None = None

    @property
    def path(self) -> str:
        return self._path

    def _open(self) -> sqlite3.Connection:
        # Autocommit: every statement is its own transaction; nothing is left half-open.
        connection = sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self._path != MEMORY:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        for statement in _SCHEMA:
            connection.execute(statement)
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        if self._path == MEMORY:
            # One private database, so one connection for all threads: serialise them.
            with self._lock:
                if self._shared is None:
                    self._shared = self._open()
                    self._opened.append(self._shared)
                yield self._shared
            return
        current: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if current is None:
            current = self._open()
            self._local.connection = current
            with self._lock:
                self._opened.append(current)
        yield current

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
            self._shared = None
        self._local = threading.local()
        for connection in opened:
            connection.close()


def _database(target: str | Path | SqliteDatabase) -> SqliteDatabase:
    return target if isinstance(target, SqliteDatabase) else SqliteDatabase(target)


class SqliteSessionStore:
    """Sessions keyed by ``str(SessionKey)``, indexed by contact id."""

    def __init__(self, database: str | Path | SqliteDatabase) -> None:
        self._db = _database(database)

    def get(self, key: SessionKey) -> ChatSession | None:
        with self._db.connection() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE session_key = ?",  # noqa: S608
                (str(key),),
            ).fetchone()
        return None if row is None else session_from_record(dict(row))

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        with self._db.connection() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM sessions WHERE contact_id = ? "  # noqa: S608
                "ORDER BY started_at DESC LIMIT 1",
                (contact_id,),
            ).fetchone()
        return None if row is None else session_from_record(dict(row))

    def save(self, session: ChatSession) -> None:
        record = session_to_record(session)
        placeholders = ", ".join("?" for _ in FIELDS)
        with self._db.connection() as connection:
            connection.execute(
                f"INSERT OR REPLACE INTO sessions ({_COLUMNS}) VALUES ({placeholders})",  # noqa: S608
                tuple(record[name] for name, _ in FIELDS),
            )

    def close(self) -> None:
        self._db.close()


class SqliteLedger:
    """Claims of message ids, each valid for ``ttl_seconds`` (7 days by default)."""

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
        now = self._clock.now()
        expired_before = now - self._ttl
        with self._db.connection() as connection:
            cursor = connection.execute(
                "INSERT INTO claims (key, claimed_at) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at "
                "WHERE claims.claimed_at <= ?",
                (key, now, expired_before),
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

    def release(self, key: str) -> None:
        with self._db.connection() as connection:
            connection.execute("DELETE FROM claims WHERE key = ?", (key,))

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
        with self._db.connection() as connection:
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
        with self._db.connection() as connection:
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
        with self._db.connection() as connection:
            row = connection.execute(
                "SELECT wamid FROM messages WHERE business_number = ? AND customer = ? "
                "AND author = 'customer' AND at > ? ORDER BY at DESC, rowid DESC LIMIT 1",
                (key.business_number, key.customer, self._clock.now() - self._ttl),
            ).fetchone()
        return "" if row is None else str(row["wamid"])

    def close(self) -> None:
        self._db.close()
