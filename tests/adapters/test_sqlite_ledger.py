"""SqliteLedger under real concurrency: threads and processes racing for one wamid."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from contextlib import closing
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Queue

from tests.fakes import FakeClock

from waconnect.adapters.local.sqlite import PURGE_INTERVAL_SECONDS, SqliteLedger
from waconnect.ports import LEDGER_TTL_SECONDS

WAMID = "wamid.HBgLMTU1NTAxMDEyMzQVAgASGBQzQUZBQzQ2RTAwMDAwMDAwMDAwOQA="
THREADS = 8
PROCESSES = 2


def claim_after_barrier(path: str, barrier: Barrier, results: object, label: str) -> None:
    """Open a ledger, wait until every contender is ready, then claim at the same moment."""
    ledger = SqliteLedger(path, FakeClock())
    try:
        ledger.claim("warm-up-" + label)  # connection and schema ready before the race
        barrier.wait(timeout=60)
        won = ledger.claim(WAMID)
    finally:
        ledger.close()
    results.put((label, won))  # type: ignore[attr-defined]


def test_one_wamid_claimed_by_8_threads_and_2_processes_has_exactly_one_winner(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "ledger.sqlite3")
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(THREADS + PROCESSES)
    process_results = spawn.Queue()
    thread_results: Queue[tuple[str, bool]] = Queue()
    processes = [
        spawn.Process(
            target=claim_after_barrier, args=(path, barrier, process_results, f"process-{n}")
        )
        for n in range(PROCESSES)
    ]
    threads = [
        threading.Thread(
            target=claim_after_barrier, args=(path, barrier, thread_results, f"thread-{n}")
        )
        for n in range(THREADS)
    ]
    for worker in [*processes, *threads]:
        worker.start()
    for thread in threads:
        thread.join(timeout=90)
    outcomes = [thread_results.get(timeout=5) for _ in threads]
    outcomes += [process_results.get(timeout=90) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    process_results.close()
    process_results.join_thread()

    winners = [label for label, won in outcomes if won]
    assert len(outcomes) == THREADS + PROCESSES
    assert len(winners) == 1
    with sqlite3.connect(path) as check:
        rows = check.execute("SELECT COUNT(*) FROM claims WHERE key = ?", (WAMID,)).fetchone()
    check.close()
    assert rows == (1,)


def test_claims_survive_reopening_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    first = SqliteLedger(tmp_path / "ledger.sqlite3", clock)
    assert first.claim(WAMID) is True
    first.close()
    reopened = SqliteLedger(tmp_path / "ledger.sqlite3", clock)
    assert reopened.claim(WAMID) is False
    reopened.close()


def test_expired_claims_are_purged_lazily_from_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "ledger.sqlite3"
    ledger = SqliteLedger(path, clock)
    for n in range(5):
        ledger.claim(f"old-{n}")
    clock.advance(LEDGER_TTL_SECONDS + PURGE_INTERVAL_SECONDS)
    ledger.claim("new")
    ledger.close()
    with sqlite3.connect(path) as check:
        keys = [row[0] for row in check.execute("SELECT key FROM claims")]
    check.close()
    assert keys == ["new"]


def test_the_file_runs_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = SqliteLedger(path, FakeClock())
    ledger.claim(WAMID)
    with sqlite3.connect(path) as check:
        mode = check.execute("PRAGMA journal_mode").fetchone()
    check.close()
    ledger.close()
    assert mode == ("wal",)


def test_a_database_from_before_leases_keeps_its_claims_and_gains_leases(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as old:
        old.execute("CREATE TABLE claims (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL)")
        old.execute("INSERT INTO claims VALUES (?, ?)", (WAMID, FakeClock().now()))
        old.commit()
    ledger = SqliteLedger(path, FakeClock())
    try:
        assert ledger.lease(WAMID, seconds=60) == "done"
        assert ledger.lease("wamid.new", seconds=60) == "taken"
    finally:
        ledger.close()
