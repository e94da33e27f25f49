"""Several processes opening one SQLite state at once: whoever comes first creates it and puts it
in WAL mode, and nobody fails for having come at the same moment."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import pytest

from waconnect.adapters.local.sqlite import SqliteSessionStore
from waconnect.adapters.local.sqlite_database import SqliteDatabase
from waconnect.domain.session import SessionKey
from waconnect.errors import TransientError

SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 4
ROUNDS = 3
JOIN_SECONDS = 120


def test_a_file_another_connection_is_still_creating_is_waited_for_not_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.sqlite3"
    creator = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    creator.execute("CREATE TABLE early (x)")  # a rollback-journal file, as SQLite creates it
    creator.execute("BEGIN IMMEDIATE")
    creator.execute("INSERT INTO early VALUES (1)")
    # SQLite does not wait on its busy timeout to switch a file whose writer is mid-transaction
    # to WAL: the pragma alone fails at once with "database is locked".
    impatient = sqlite3.connect(path, isolation_level=None, timeout=5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        impatient.execute("PRAGMA journal_mode = WAL")
    impatient.close()
    commit = threading.Timer(0.3, creator.execute, ("COMMIT",))
    commit.start()

    database = SqliteDatabase(path)
    try:
        store = SqliteSessionStore(database)
        assert store.get(SessionKey(business_number="100000000000001", customer="1555")) is None
    finally:
        database.close()
        commit.join()
        creator.close()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    check.close()


def open_and_write(path: str, start_at: float, results: Queue[Any]) -> None:
    """One process: wait for the common start, open the state, write and read a session key."""
    while time.time() < start_at:
        time.sleep(0.001)
    try:
        database = SqliteDatabase(path)
        with database.connection("first use") as connection:
            connection.execute("SELECT count(*) FROM sessions").fetchall()
        database.close()
        results.put("ok")
    except TransientError as exc:
        results.put(f"failed: {exc}")


def test_processes_opening_a_new_state_at_the_same_moment_all_get_it(tmp_path: Path) -> None:
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"state-{round_}.sqlite3")
        results: Queue[Any] = SPAWN.Queue()
        start_at = time.time() + 2.0
        processes = [
            SPAWN.Process(target=open_and_write, args=(path, start_at, results))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        answers = [results.get(timeout=JOIN_SECONDS) for _ in processes]
        for process in processes:
            process.join(JOIN_SECONDS)
        assert answers == ["ok"] * PROCESSES
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        check.close()
