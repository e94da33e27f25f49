"""One SQLite file shared by threads and processes: connections, the schema, and error kinds.

The file runs in WAL mode (readers never block the writer) with a busy timeout, so several bridge
processes may share it. Each thread gets its own connection; ``":memory:"`` gives one private
database behind a lock (tests). Every write is a single statement, so atomicity is SQLite's.

Errors are translated in one place (``translate_sqlite_errors``, applied around every use of a
connection): a database still locked after the busy timeout is a ``TransientError``; corruption,
a read-only or full disk and the like are a ``PermanentError``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from waconnect.adapters.session_codec import FIELDS
from waconnect.errors import PermanentError, TransientError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
MEMORY = ":memory:"

_SQL_TYPES = {str: "TEXT", float: "REAL", int: "INTEGER", bool: "INTEGER"}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions ("
    + ", ".join(f"{name} {_SQL_TYPES[kind]} NOT NULL" for name, kind in FIELDS)
    + ", PRIMARY KEY (session_key))",
    "CREATE INDEX IF NOT EXISTS sessions_by_contact ON sessions (contact_id)",
    "CREATE TABLE IF NOT EXISTS session_aliases "
    "(alias TEXT PRIMARY KEY, session_key TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL, "
    "lease_until REAL NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS claims_by_age ON claims (claimed_at)",
    "CREATE TABLE IF NOT EXISTS messages (wamid TEXT PRIMARY KEY, business_number TEXT NOT NULL, "
    "customer TEXT NOT NULL, author TEXT NOT NULL, snippet TEXT NOT NULL, at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS messages_by_customer "
    "ON messages (business_number, customer, author, at)",
    "CREATE INDEX IF NOT EXISTS messages_by_age ON messages (at)",
    # seq: set when a document is first kept (the upsert keeps it), so due ones come in arrival
    # order; an INTEGER PRIMARY KEY, unlike a bare rowid, survives VACUUM.
    "CREATE TABLE IF NOT EXISTS kept (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, "
    "document TEXT NOT NULL, due_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS kept_by_due ON kept (due_at)",
    # Whose messages each kept document holds: a customer's new messages wait behind them.
    "CREATE TABLE IF NOT EXISTS kept_for (customer TEXT NOT NULL, key TEXT NOT NULL, "
    "PRIMARY KEY (customer, key))",
    "CREATE INDEX IF NOT EXISTS kept_for_by_key ON kept_for (key)",
    # Voice notes waiting for an engine that finishes later (sqlite_transcripts).
    "CREATE TABLE IF NOT EXISTS transcript_jobs (job TEXT PRIMARY KEY, record TEXT NOT NULL, "
    "started_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS transcript_jobs_by_age ON transcript_jobs (started_at)",
    # When each job whose end was not heard yet is looked at (sqlite_transcripts).
    "CREATE TABLE IF NOT EXISTS transcript_checks (job TEXT PRIMARY KEY, check_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS transcript_checks_by_time ON transcript_checks (check_at)",
)


_TRANSIENT_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


@contextmanager
def translate_sqlite_errors(operation: str) -> Iterator[None]:
    """Run SQLite work, raising our errors (``from`` sqlite3's) with the SQLite error name kept."""
    try:
        yield
    except sqlite3.ProgrammingError:
        # Misuse of the API (a closed connection, a bad statement) is a bug: let it show as one.
        raise
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
        # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep their primary code in the low byte.
        primary = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        busy = primary in _TRANSIENT_CODES or (
            primary == 0 and isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
        )
        kind = TransientError if busy else PermanentError
        logger.info("sqlite %s failed: %s", operation, code)
        raise kind(f"{operation}: {code}: {exc}", operation=operation, code=code) from exc


class SqliteDatabase:
    """Connections to one SQLite file: one per thread, opened on first use and set up once."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self._path = str(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        self._shared: sqlite3.Connection | None = None
        self._setup_lock = threading.Lock()
        self._ready = False

    @property
    def path(self) -> str:
        return self._path

    def _open(self) -> sqlite3.Connection:
        # Autocommit: every statement is its own transaction; nothing is left half-open.
        connection = sqlite3.connect(
            self._path,
            timeout=self._busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        with self._setup_lock:
            if not self._ready:
                self._set_up(connection)
                self._ready = True
        if self._path != MEMORY:
            connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    def _set_up(self, connection: sqlite3.Connection) -> None:
        """WAL mode and the schema, once per database object (the first connection does it).

        Threads opening their first connections at once would otherwise each run the schema,
        and two connections upgrading shared locks to write deadlock in SQLite without waiting
        for the busy timeout. ``BEGIN IMMEDIATE`` takes the write lock up front (waiting for it),
        which keeps a second process setting up the same file safe too.
        """
        if self._path != MEMORY:
            _use_wal(connection, patience=self._busy_timeout_ms / 1000)
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            _add_missing_columns(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextmanager
    def connection(self, operation: str = "sqlite") -> Iterator[sqlite3.Connection]:
        """A connection for this thread; SQLite errors in the block become waconnect's."""
        with translate_sqlite_errors(operation):
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


def _use_wal(connection: sqlite3.Connection, *, patience: float) -> None:
    """Put the file in WAL mode, unless it is already: processes starting together share it.

    A connection that has not read the file yet takes it for a rollback-journal one, and
    ``PRAGMA journal_mode = WAL`` then wants an exclusive lock that SQLite does not wait for:
    while another process creates the file or switches it, the pragma fails at once with
    "database is locked", busy timeout or not. A read waits like any read and tells the mode
    the file is in; only a file not in WAL yet is switched, trying again until ``patience``.
    """
    deadline = time.monotonic() + patience
    pause = 0.005
    while True:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        if str(connection.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked: still not in WAL mode")
        try:
            connection.execute("PRAGMA journal_mode = WAL").fetchall()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.1)


# Columns added after a table first shipped: (table, column, definition).
_ADDED_COLUMNS = (("claims", "lease_until", "REAL NOT NULL DEFAULT 0"),)


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Bring a database written by an older version up to date (existing rows stay valid)."""
    for table, column, definition in _ADDED_COLUMNS:
        present = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def database(target: str | Path | SqliteDatabase) -> SqliteDatabase:
    """``target`` itself when it is a database already, else a database on that path."""
    return target if isinstance(target, SqliteDatabase) else SqliteDatabase(target)
