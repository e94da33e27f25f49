"""The TranscriptJobs and TranscriptChecks contract, run over the in-memory fake, SQLite and
DynamoDB (moto)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import FakeClock, InMemoryTranscriptJobs
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import ledger_table_definition
from waconnect.adapters.aws.dynamodb_transcript_checks import DynamoDbCheckedTranscriptJobs
from waconnect.adapters.aws.dynamodb_transcripts import DynamoDbTranscriptJobs
from waconnect.adapters.local.sqlite import SqliteLedger
from waconnect.adapters.local.sqlite_database import SqliteDatabase
from waconnect.adapters.local.sqlite_transcripts import SqliteTranscriptJobs
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError
from waconnect.ports import (
    KEPT_HOLD_SECONDS,
    LEDGER_TTL_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    PendingTranscript,
    TranscriptChecks,
    TranscriptJobs,
)


class Store(TranscriptJobs, TranscriptChecks):
    """What every adapter of the two ports is."""


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def jobs(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    if request.param == "in-memory":
        yield InMemoryTranscriptJobs(clock=clock)
    elif request.param.startswith("sqlite"):
        target = tmp_path / "state.sqlite3" if request.param == "sqlite-file" else ":memory:"
        sqlite = SqliteTranscriptJobs(target, clock)
        yield sqlite
        sqlite.close()
    else:
        with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
            yield DynamoDbCheckedTranscriptJobs(client, table, clock)


@pytest.fixture(params=["in-memory", "sqlite", "dynamodb"])
def unchecked(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    """Stores whose jobs are checked from elsewhere (the Lambda shape's queue)."""
    if request.param == "in-memory":
        yield InMemoryTranscriptJobs(clock=clock, check_after_seconds=None)
    elif request.param == "sqlite":
        sqlite = SqliteTranscriptJobs(tmp_path / "state.sqlite3", clock, check_after_seconds=None)
        yield sqlite
        sqlite.close()
    else:
        with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
            yield DynamoDbTranscriptJobs(client, table, clock)


def pending(job: str, clock: FakeClock, **changes: object) -> PendingTranscript:
    record = PendingTranscript(
        job=job,
        wamid="wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQ=",
        business=BusinessNumber(
            meta_phone_number_id="100000000000001",
            display_phone_number="15550001111",
            waba_id="waba-1",
            aws_phone_number_id="phone-number-id-0123abcd",
        ),
        customer=Customer(wa_id="15550100001", user_id="US.13491208655302741918"),
        contact_id="c0ffee00-0000-4000-8000-000000000001",
        generation=3,
        started_at=clock.now(),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def test_a_remembered_job_is_found_with_every_field(jobs: TranscriptJobs, clock: FakeClock) -> None:
    record = pending("waconnect-1", clock)
    jobs.remember(record)
    assert jobs.find("waconnect-1") == record


def test_an_unknown_job_is_not_found(jobs: TranscriptJobs) -> None:
    assert jobs.find("waconnect-never") is None


def test_remembering_a_job_again_replaces_its_record(
    jobs: TranscriptJobs, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-2", clock))
    jobs.remember(pending("waconnect-2", clock, contact_id="contact-newer", generation=4))
    found = jobs.find("waconnect-2")
    assert found is not None
    assert (found.contact_id, found.generation) == ("contact-newer", 4)


def test_a_job_older_than_the_retention_is_not_found(
    jobs: TranscriptJobs, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-3", clock))
    clock.advance(LEDGER_TTL_SECONDS + 1)
    assert jobs.find("waconnect-3") is None


def test_a_customer_known_by_phone_number_only_keeps_an_empty_user_id(
    jobs: TranscriptJobs, clock: FakeClock
) -> None:
    record = pending("waconnect-4", clock, customer=Customer(wa_id="15550100002"))
    jobs.remember(record)
    found = jobs.find("waconnect-4")
    assert found is not None
    assert found.customer.identity == "15550100002"


def test_the_jobs_share_the_sqlite_file_with_the_ledger(tmp_path: Path, clock: FakeClock) -> None:
    database = SqliteDatabase(tmp_path / "state.sqlite3")
    ledger = SqliteLedger(database, clock)
    store = SqliteTranscriptJobs(database, clock)
    assert ledger.claim("whatsapp:wamid.1")
    store.remember(pending("waconnect-5", clock))
    tables = {
        row[0]
        for row in sqlite3.connect(database.path).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        )
    }
    assert {"claims", "transcript_jobs"} <= tables
    database.close()


def test_a_damaged_record_is_a_permanent_error_not_a_crash(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = SqliteTranscriptJobs(tmp_path / "state.sqlite3", clock)
    store.remember(pending("waconnect-6", clock))
    connection = sqlite3.connect(tmp_path / "state.sqlite3")
    connection.execute("UPDATE transcript_jobs SET record = '{\"job\": 1}'")
    connection.commit()
    connection.close()
    with pytest.raises(PermanentError, match="unreadable transcript job record"):
        store.find("waconnect-6")
    store.close()


def jobs_of(found: list[PendingTranscript]) -> list[str]:
    return [record.job for record in found]


def test_a_job_is_first_due_for_a_check_its_delay_after_it_started(
    jobs: Store, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-7", clock))
    assert jobs.due(clock.now() + TRANSCRIPT_CHECK_SECONDS - 1) == []
    [due] = jobs.due(clock.now() + TRANSCRIPT_CHECK_SECONDS)
    assert due == pending("waconnect-7", clock)


def test_a_job_taken_for_a_check_is_held_from_other_callers_then_due_again(
    jobs: Store, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-8", clock))
    at = clock.now() + TRANSCRIPT_CHECK_SECONDS
    assert jobs_of(jobs.due(at)) == ["waconnect-8"]
    assert jobs.due(at) == []  # another worker, at the same moment
    assert jobs.due(at + KEPT_HOLD_SECONDS - 1) == []
    # The taker died without a word: the job comes back.
    assert jobs_of(jobs.due(at + KEPT_HOLD_SECONDS)) == ["waconnect-8"]


def test_a_job_checked_later_is_due_at_that_time_only(jobs: Store, clock: FakeClock) -> None:
    jobs.remember(pending("waconnect-9", clock))
    start = clock.now()
    assert jobs_of(jobs.due(start + TRANSCRIPT_CHECK_SECONDS)) == ["waconnect-9"]
    jobs.check_later("waconnect-9", start + 5000)
    assert jobs.due(start + 4999) == []
    assert jobs_of(jobs.due(start + 5000)) == ["waconnect-9"]


def test_a_job_no_longer_checked_is_never_due_but_still_found(
    jobs: Store, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-10", clock))
    jobs.remember(pending("waconnect-11", clock))
    jobs.stop_checking("waconnect-10")
    jobs.check_later("waconnect-10", clock.now())  # nothing to move: not scheduled again
    assert jobs_of(jobs.due(clock.now() + 10 * TRANSCRIPT_CHECK_SECONDS)) == ["waconnect-11"]
    assert jobs.find("waconnect-10") == pending("waconnect-10", clock)


def test_checks_of_unknown_jobs_change_nothing(jobs: Store, clock: FakeClock) -> None:
    jobs.check_later("waconnect-never", clock.now())
    jobs.stop_checking("waconnect-never")
    assert jobs.due(clock.now() + LEDGER_TTL_SECONDS) == []
    assert jobs.find("waconnect-never") is None


def test_a_job_past_the_retention_is_still_due_so_its_check_can_forget_it(
    jobs: Store, clock: FakeClock
) -> None:
    jobs.remember(pending("waconnect-12", clock))
    jobs.check_later("waconnect-12", clock.now() + LEDGER_TTL_SECONDS + 60)
    clock.advance(LEDGER_TTL_SECONDS + 60)
    jobs.remember(pending("waconnect-13", clock))  # a new job cleans up old ones, not this
    assert jobs.find("waconnect-12") is None
    assert jobs_of(jobs.due(clock.now())) == ["waconnect-12"]


def test_due_jobs_come_earliest_check_first(jobs: Store, clock: FakeClock) -> None:
    start = clock.now()
    for name, delay in (("waconnect-14", 30), ("waconnect-15", 10), ("waconnect-16", 20)):
        jobs.remember(pending(name, clock))
        jobs.check_later(name, start + delay)
    assert jobs_of(jobs.due(start + 60)) == ["waconnect-15", "waconnect-16", "waconnect-14"]


def test_where_checks_come_from_elsewhere_no_job_is_ever_due(
    unchecked: TranscriptJobs, tmp_path: Path, clock: FakeClock
) -> None:
    unchecked.remember(pending("waconnect-17", clock))
    assert unchecked.find("waconnect-17") == pending("waconnect-17", clock)
    if isinstance(unchecked, DynamoDbTranscriptJobs):
        # Not in the index of due work at all.
        assert "due_at" not in _item(unchecked, "waconnect-17")
    else:
        checks: TranscriptChecks = unchecked  # type: ignore[assignment]
        assert checks.due(clock.now() + LEDGER_TTL_SECONDS) == []


def _item(store: DynamoDbTranscriptJobs, job: str) -> dict[str, object]:
    client, table = store._client, store._table
    item = client.get_item(TableName=table, Key={"claim_key": {"S": f"transcript#{job}"}})
    return dict(item["Item"])
