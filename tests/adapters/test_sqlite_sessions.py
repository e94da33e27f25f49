"""SqliteSessionStore beyond the contract: durability and many threads writing at once."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from tests.contracts.test_session_store_contract import make_session
from tests.fakes import FakeClock

from waconnect.adapters.local.sqlite import SqliteDatabase, SqliteLedger, SqliteSessionStore


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

    threads = [threading.Thread(target=save_share, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
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
