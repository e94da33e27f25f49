"""SqliteSessionStore beyond the contract: durability, threads and processes, SQLite's errors."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from tests.contracts.test_session_store_contract import make_session
from tests.fakes import FakeClock

from waconnect.adapters.local.sqlite import SqliteLedger, SqliteSessionStore
from waconnect.adapters.local.sqlite_database import SqliteDatabase
from waconnect.errors import PermanentError, TransientError


def test_sessions_survive_reopening_the_file(tmp_path: Path) -> None:
    session = make_session()
    first = SqliteSessionStore(tmp_path / "bridge.sqlite3")
    first.save(session)
    first.close()
    reopened = SqliteSessionStore(tmp_path / "bridge.sqlite3")
    assert reopened.get(session.key) == session
    assert reopened.find_by_contact(session.contact_id) == session
    reopened.close()


def test_sessions_saved_from_many_threads_are_all_kept(tmp_path: Path) -> None:
    store = SqliteSessionStore(tmp_path / "bridge.sqlite3")
    sessions = [make_session(f"1555010{n:04d}", contact_id=f"contact-{n}") for n in range(40)]
    start = threading.Barrier(8)

    def save_share(share: int) -> None:
        start.wait(timeout=30)
        for session in sessions[share::8]:
            store.save(session)
            store.save(replace(session, generation=session.generation + 1))

    # The pool hands back each thread's exception: a locked database must fail the test here.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(save_share, range(8)))
    for session in sessions:
        assert store.get(session.key) == replace(session, generation=session.generation + 1)
    store.close()


def test_sessions_and_ledger_share_one_database_file(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "bridge.sqlite3")
    sessions = SqliteSessionStore(database)
    ledger = SqliteLedger(database, FakeClock())
    session = make_session()
    sessions.save(session)
    assert ledger.claim("wamid.shared-file") is True
    database.close()
    reopened = SqliteDatabase(tmp_path / "bridge.sqlite3")
    assert SqliteSessionStore(reopened).get(session.key) == session
    assert SqliteLedger(reopened, FakeClock()).claim("wamid.shared-file") is False
    reopened.close()


def save_chat_after_barrier(path: str, barrier: Barrier, generation: int, saves: int) -> None:
    """One bridge process: save this generation of the chat ``saves`` times once all are ready."""
    store = SqliteSessionStore(path)
    try:
        store.get(make_session().key)  # connection and schema ready before the race
        barrier.wait(timeout=60)
        session = replace(
            make_session(contact_id=f"contact-gen-{generation}"), generation=generation
        )
        for n in range(saves):
            store.save(session.with_connection(f"connection-token-{n}", 1_764_100_000.0 + n))
    finally:
        store.close()


def test_a_process_refreshing_an_old_chat_never_overwrites_the_new_one_another_process_saved(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "bridge.sqlite3")
    old_generation = make_session().generation
    SqliteSessionStore(path).save(make_session(contact_id=f"contact-gen-{old_generation}"))
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    # Outbound keeps refreshing the old chat's token while inbound opens the next chat.
    old = spawn.Process(target=save_chat_after_barrier, args=(path, barrier, old_generation, 60))
    new = spawn.Process(target=save_chat_after_barrier, args=(path, barrier, old_generation + 1, 1))
    for process in (old, new):
        process.start()
    for process in (old, new):
        process.join(timeout=90)
        assert process.exitcode == 0

    store = SqliteSessionStore(path)
    stored = store.get(make_session().key)
    store.close()
    assert stored is not None
    assert stored.generation == old_generation + 1
    assert stored.contact_id == f"contact-gen-{old_generation + 1}"


def test_a_database_locked_past_the_busy_timeout_is_a_transient_error(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = SqliteSessionStore(SqliteDatabase(path, busy_timeout_ms=50))
    store.save(make_session())
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with pytest.raises(TransientError) as raised:
            store.save(make_session(contact_id="contact-while-locked"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert raised.value.code == "SQLITE_BUSY"
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    # Once the lock is gone, the same store works again: nothing was left half-done.
    assert store.save(make_session(contact_id="contact-after-lock")) is True
    store.close()


def test_a_file_that_is_not_a_database_is_a_permanent_error(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    path.write_bytes(b"this is not an SQLite database, just text " * 100)
    store = SqliteSessionStore(path)
    with pytest.raises(PermanentError) as raised:
        store.get(make_session().key)
    store.close()
    assert raised.value.code == "SQLITE_NOTADB"
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
