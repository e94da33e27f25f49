"""The TranscriptJobs contract, run over the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import FakeClock, InMemoryTranscriptJobs
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import ledger_table_definition
from waconnect.adapters.aws.dynamodb_transcripts import DynamoDbTranscriptJobs
from waconnect.adapters.local.sqlite import SqliteDatabase, SqliteLedger
from waconnect.adapters.local.sqlite_transcripts import SqliteTranscriptJobs
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError
from waconnect.ports import LEDGER_TTL_SECONDS, PendingTranscript, TranscriptJobs


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def jobs(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[TranscriptJobs]:
    if request.param == "in-memory":
        yield InMemoryTranscriptJobs(clock=clock)
    elif request.param.startswith("sqlite"):
        target = tmp_path / "state.sqlite3" if request.param == "sqlite-file" else ":memory:"
        sqlite = SqliteTranscriptJobs(target, clock)
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
