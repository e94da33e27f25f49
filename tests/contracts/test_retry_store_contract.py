"""The RetryStore contract, run over the in-memory fake, SQLite and DynamoDB (moto).

Each store is opened twice over the same state (two handles: two workers sharing it), so the
takeover of a due document is checked across handles, not only within one object.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import InMemoryRetryStore
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import ledger_table_definition
from waconnect.adapters.aws.dynamodb_kept import DynamoDbRetryStore
from waconnect.adapters.local.sqlite_database import SqliteDatabase
from waconnect.adapters.local.sqlite_kept import SqliteRetryStore
from waconnect.ports import KEPT_HOLD_SECONDS, KeptDocument, RetryStore

Handles = Callable[[], RetryStore]


class OneRequestAtATime:
    """A DynamoDB client whose requests each take effect whole, as DynamoDB applies them.

    moto checks a condition and writes in two steps that threads can interleave; DynamoDB does
    not. Serialising whole requests keeps the race between workers (query, then conditional
    update) while taking away the race inside moto, which production does not have.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return one_at_a_time


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    """A maker of handles on one store: each call is another worker on the same state."""
    if request.param == "in-memory":
        shared = InMemoryRetryStore()
        yield lambda: shared
    elif request.param.startswith("sqlite"):
        opened: list[SqliteRetryStore] = []
        if request.param == "sqlite-file":

            def sqlite() -> RetryStore:
                opened.append(SqliteRetryStore(tmp_path / "state.sqlite3"))
                return opened[-1]

            yield sqlite
        else:
            database = SqliteDatabase(":memory:")
            yield lambda: SqliteRetryStore(database)
            database.close()
        for store in opened:
            store.close()
    else:
        with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
            atomic = OneRequestAtATime(client)
            yield lambda: DynamoDbRetryStore(atomic, table)  # type: ignore[arg-type]


@pytest.fixture
def store(handles: Handles) -> RetryStore:
    return handles()


def test_a_kept_document_is_due_from_its_due_time_on(store: RetryStore) -> None:
    document = '{"text": "¿hay alguien? 🙋"}'
    store.keep("doc-1", document, due_at=100.0)
    assert store.due(99.5) == []
    assert store.due(100.0) == [KeptDocument(key="doc-1", document=document, due_at=100.0)]


def test_due_documents_come_in_the_order_they_were_first_kept(store: RetryStore) -> None:
    # Neither the due times nor the keys are in arrival order; moving a due time keeps the place.
    store.keep("c-first", "{}", due_at=300.0)
    store.keep("a-second", "{}", due_at=100.0)
    store.keep("b-third", "{}", due_at=200.5)
    store.keep("d-not-yet", "{}", due_at=900.0)
    store.keep("c-first", "{}", due_at=400.0)
    assert [d.key for d in store.due(500.0)] == ["c-first", "a-second", "b-third"]


def test_keeping_again_moves_the_due_time_without_a_second_copy(store: RetryStore) -> None:
    store.keep("doc-1", "{}", due_at=100.0)
    store.keep("doc-1", "{}", due_at=250.0)
    assert store.due(200.0) == []
    assert [(d.key, d.due_at) for d in store.due(250.0)] == [("doc-1", 250.0)]


def test_a_dropped_document_is_gone_and_dropping_an_unknown_one_is_harmless(
    store: RetryStore,
) -> None:
    store.keep("doc-1", "{}", due_at=100.0)
    store.keep("doc-2", "{}", due_at=100.0)
    store.drop("doc-1")
    store.drop("never-kept")
    assert [d.key for d in store.due(1000.0)] == ["doc-2"]


def test_a_taken_document_is_due_again_only_after_the_hold(handles: Handles) -> None:
    first, second = handles(), handles()
    first.keep("doc-1", "{}", due_at=100.0)
    assert [d.key for d in first.due(150.0)] == ["doc-1"]
    # Taken: neither the taker nor another worker gets it again while it is held...
    assert first.due(150.0) == []
    assert second.due(150.0 + KEPT_HOLD_SECONDS - 1) == []
    # ...and a taker that never came back (a crash) gives it up once the hold is over.
    [again] = second.due(150.0 + KEPT_HOLD_SECONDS)
    assert (again.key, again.due_at) == ("doc-1", 150.0 + KEPT_HOLD_SECONDS)


def test_the_taker_keeping_or_dropping_ends_the_hold(handles: Handles) -> None:
    first, second = handles(), handles()
    first.keep("retry", "{}", due_at=100.0)
    first.keep("settled", "{}", due_at=100.0)
    assert len(first.due(100.0)) == 2
    first.keep("retry", "{}", due_at=160.0)
    first.drop("settled")
    assert [d.key for d in second.due(160.0)] == ["retry"]
    assert second.due(100.0 + KEPT_HOLD_SECONDS) == []


def test_workers_racing_for_due_documents_each_take_a_document_once(handles: Handles) -> None:
    writer = handles()
    keys = [f"doc-{n:02d}" for n in range(20)]
    for n, key in enumerate(keys):
        writer.keep(key, f'{{"n": {n}}}', due_at=float(n))
    workers = [handles() for _ in range(4)]
    taken: list[list[str]] = [[] for _ in workers]
    start = threading.Barrier(len(workers))

    def work(index: int) -> None:
        start.wait(timeout=60)
        for _ in range(3):
            taken[index].extend(d.key for d in workers[index].due(100.0))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    everything = [key for keys_of_one in taken for key in keys_of_one]
    assert sorted(everything) == keys


def test_a_customers_kept_documents_are_found_in_first_kept_order_due_or_not(
    handles: Handles,
) -> None:
    writer, reader = handles(), handles()
    writer.keep("c-first", '{"n": 1}', due_at=900.0, customers=["ana"])
    writer.keep("a-both", '{"n": 2}', due_at=100.0, customers=["ana", "ben"])
    writer.keep("b-bens", '{"n": 3}', due_at=100.0, customers=["ben"])
    writer.keep("d-nobodys", '{"n": 4}', due_at=100.0)
    # Keeping again moves the due time and keeps the customers named before.
    writer.keep("c-first", '{"n": 1}', due_at=950.0)

    assert [(d.key, d.document) for d in reader.waiting("ana")] == [
        ("c-first", '{"n": 1}'),
        ("a-both", '{"n": 2}'),
    ]
    assert [d.key for d in reader.waiting("ben")] == ["a-both", "b-bens"]
    assert reader.waiting("carla") == []
    # Looking does not take: the due ones are still there for ``due``.
    assert [d.key for d in reader.due(200.0)] == ["a-both", "b-bens", "d-nobodys"]


def test_a_dropped_document_no_longer_waits_for_its_customers(store: RetryStore) -> None:
    store.keep("first", "{}", due_at=100.0, customers=["ana"])
    store.keep("second", "{}", due_at=100.0, customers=["ana"])
    store.drop("first")
    assert [d.key for d in store.waiting("ana")] == ["second"]
    store.drop("second")
    assert store.waiting("ana") == []
