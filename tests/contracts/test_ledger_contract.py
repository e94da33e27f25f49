"""The Ledger contract, run over the in-memory fake, SQLite and DynamoDB (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeClock, InMemoryLedger
from tests.moto_isolation import mocked_dynamodb_table
from waconnect.adapters.aws.dynamodb import ledger_table_definition
from waconnect.adapters.aws.dynamodb_ledger import DynamoDbLedger
from waconnect.adapters.local.sqlite import SqliteLedger
from waconnect.ports import LEDGER_TTL_SECONDS, Ledger

WAMID = "wamid.HBgLMTU1NTAxMDEyMzQVAgASGBQzQUZBQzQ2RTAwMDAwMDAwMDAwMQA="
OTHER_WAMID = "wamid.HBgLMTU1NTAxMDEyMzQVAgASGBQzQUZBQzQ2RTAwMDAwMDAwMDAwMgA="


@pytest.fixture(params=["in-memory", "sqlite-file", "sqlite-memory", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Ledger]:
    if request.param == "in-memory":
        yield InMemoryLedger(clock=clock)
    elif request.param.startswith("sqlite"):
        target = tmp_path / "ledger.sqlite3" if request.param == "sqlite-file" else ":memory:"
        sqlite = SqliteLedger(target, clock)
        yield sqlite
        sqlite.close()
    else:
        with mocked_dynamodb_table("ledger", ledger_table_definition) as (client, table):
            yield DynamoDbLedger(client, table, clock)


def test_first_claim_wins_and_a_second_claim_loses(ledger: Ledger) -> None:
    assert ledger.claim(WAMID) is True
    assert ledger.claim(WAMID) is False


def test_claims_of_different_keys_do_not_interfere(ledger: Ledger) -> None:
    assert ledger.claim(WAMID) is True
    assert ledger.claim(OTHER_WAMID) is True
    assert ledger.claim(OTHER_WAMID) is False


def test_released_claim_can_be_claimed_again_once(ledger: Ledger) -> None:
    ledger.claim(WAMID)
    ledger.release(WAMID)
    assert ledger.claim(WAMID) is True
    assert ledger.claim(WAMID) is False


def test_releasing_an_unknown_key_is_harmless(ledger: Ledger) -> None:
    ledger.release(WAMID)
    assert ledger.claim(WAMID) is True


def test_claim_still_holds_just_before_the_retention_ends(ledger: Ledger, clock: FakeClock) -> None:
    ledger.claim(WAMID)
    clock.advance(LEDGER_TTL_SECONDS - 60)
    assert ledger.claim(WAMID) is False


def test_claim_older_than_the_retention_is_claimable_again(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.claim(WAMID)
    clock.advance(LEDGER_TTL_SECONDS)
    assert ledger.claim(WAMID) is True
    assert ledger.claim(WAMID) is False


LEASE = 90.0
LEASE_RETENTION = LEDGER_TTL_SECONDS


def test_a_lease_is_taken_once_and_held_until_it_runs_out(ledger: Ledger, clock: FakeClock) -> None:
    assert ledger.lease(WAMID, seconds=LEASE) == "taken"
    assert ledger.lease(WAMID, seconds=LEASE) == "held"
    clock.advance(LEASE - 1)
    assert ledger.lease(WAMID, seconds=LEASE) == "held"


def test_a_lease_that_ran_out_is_taken_over_once(ledger: Ledger, clock: FakeClock) -> None:
    ledger.lease(WAMID, seconds=LEASE)
    clock.advance(LEASE)
    assert ledger.lease(WAMID, seconds=LEASE) == "taken"
    assert ledger.lease(WAMID, seconds=LEASE) == "held"


def test_finished_work_reads_done_for_the_retention_then_is_free(
    ledger: Ledger, clock: FakeClock
) -> None:
    ledger.lease(WAMID, seconds=LEASE)
    ledger.finish(WAMID)
    clock.advance(LEASE * 2)
    assert ledger.lease(WAMID, seconds=LEASE) == "done"
    assert ledger.claim(WAMID) is False
    clock.advance(LEASE_RETENTION)
    assert ledger.lease(WAMID, seconds=LEASE) == "taken"


def test_a_released_lease_is_free_at_once(ledger: Ledger) -> None:
    ledger.lease(WAMID, seconds=LEASE)
    ledger.release(WAMID)
    assert ledger.lease(WAMID, seconds=LEASE) == "taken"


def test_finishing_a_key_nobody_leased_records_it_done(ledger: Ledger) -> None:
    ledger.finish(WAMID)
    assert ledger.lease(WAMID, seconds=LEASE) == "done"
    assert ledger.claim(WAMID) is False


def test_a_claim_reads_done_to_a_lease_and_a_live_lease_refuses_a_claim(ledger: Ledger) -> None:
    assert ledger.claim(WAMID) is True
    assert ledger.lease(WAMID, seconds=LEASE) == "done"
    assert ledger.lease(OTHER_WAMID, seconds=LEASE) == "taken"
    assert ledger.claim(OTHER_WAMID) is False


def test_finished_names_only_keys_done_within_the_retention(
    ledger: Ledger, clock: FakeClock
) -> None:
    finished, claimed, leased, released = (f"{WAMID}:{n}" for n in range(4))
    ledger.lease(finished, seconds=LEASE)
    ledger.finish(finished)
    ledger.claim(claimed)
    ledger.lease(leased, seconds=LEASE)
    ledger.lease(released, seconds=LEASE)
    ledger.release(released)

    everything = [finished, claimed, leased, released, OTHER_WAMID]
    assert ledger.finished(everything) == {finished, claimed}
    clock.advance(LEASE * 2)  # a lease that ran out is free, not done
    assert ledger.finished(everything) == {finished, claimed}
    clock.advance(LEASE_RETENTION)
    assert ledger.finished(everything) == set()


def test_finished_reads_many_keys_at_once_and_takes_none(ledger: Ledger) -> None:
    keys = [f"{WAMID}:{n}" for n in range(250)]
    for key in keys[::2]:
        ledger.claim(key)

    assert ledger.finished([*keys, keys[0]]) == set(keys[::2])
    assert ledger.finished([]) == set()
    # Reading took nothing: the keys not done are still free.
    assert ledger.lease(keys[1], seconds=LEASE) == "taken"


def test_finishing_several_keys_at_once_marks_each_done_whoever_held_it(ledger: Ledger) -> None:
    held, fresh = f"{WAMID}:held", f"{WAMID}:fresh"
    many = [f"{WAMID}:{n}" for n in range(30)]
    assert ledger.lease(held, seconds=LEASE) == "taken"

    ledger.finish(held, fresh, *many, fresh)

    assert ledger.finished([held, fresh, *many], consistent=True) == {held, fresh, *many}
    assert ledger.lease(held, seconds=LEASE) == "done"
    assert ledger.claim(many[-1]) is False
    assert ledger.lease(OTHER_WAMID, seconds=LEASE) == "taken"


def test_a_consistent_read_sees_a_finish_made_just_before(ledger: Ledger) -> None:
    ledger.lease(WAMID, seconds=LEASE)
    assert ledger.finished([WAMID], consistent=True) == set()
    ledger.finish(WAMID)
    assert ledger.finished([WAMID], consistent=True) == {WAMID}
