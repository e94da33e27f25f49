"""The redrive arithmetic: a record waiting for capacity reaches its maximum age before the DLQ."""

from __future__ import annotations

import pytest

from waconnect_infra.sizing import (
    SQS_MAX_VISIBILITY_SECONDS,
    UNPLANNED_RECEIVES,
    RetryBudget,
)


def budget(**overrides: int) -> RetryBudget:
    values = {
        "function_timeout_seconds": 120,
        "base_delay_seconds": 10,
        "max_delay_seconds": 900,
        "max_age_seconds": 24 * 3600,
    }
    values.update(overrides)
    return RetryBudget(**values)


def test_the_schedule_doubles_from_the_base_and_stops_at_the_maximum_delay() -> None:
    delays = budget().planned_delays
    assert delays[:8] == (10, 20, 40, 80, 160, 320, 640, 900)
    assert set(delays[7:]) == {900}


def test_a_record_waiting_the_whole_schedule_is_received_before_the_dead_letter_queue() -> None:
    b = budget()
    # Simulate SQS: each receive counts; the handler hides the record for the next planned delay
    # until it is as old as the maximum age.
    age, receives = 0, 0
    for delay in (*b.planned_delays, None):
        receives += 1
        assert receives < b.max_receive_count  # SQS has not dead-lettered it
        if delay is None:
            break
        age += delay
    assert age >= b.max_age_seconds  # the handler saw it reach the maximum age
    assert b.max_receive_count - receives == UNPLANNED_RECEIVES


def test_one_receive_fewer_would_dead_letter_a_waiting_record_early() -> None:
    b = budget()
    assert b.planned_receives == 1 + len(b.planned_delays)
    assert sum(b.planned_delays[:-1]) < b.max_age_seconds


def test_the_visibility_timeout_is_six_function_timeouts_capped_at_twelve_hours() -> None:
    assert budget(function_timeout_seconds=120).visibility_timeout_seconds == 720
    assert budget(function_timeout_seconds=900).visibility_timeout_seconds == 5400
    assert (
        budget(function_timeout_seconds=9000, max_age_seconds=3600).visibility_timeout_seconds
        == SQS_MAX_VISIBILITY_SECONDS
    )


def test_a_maximum_age_past_the_queues_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="past SQS's 14 days"):
        budget(max_age_seconds=14 * 24 * 3600, max_delay_seconds=12 * 3600)


def test_a_schedule_needing_more_than_a_thousand_receives_is_refused() -> None:
    with pytest.raises(ValueError, match="over SQS's 1000"):
        budget(max_delay_seconds=60, max_age_seconds=3 * 24 * 3600)


def test_delays_that_shrink_or_exceed_twelve_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="must grow"):
        budget(base_delay_seconds=600, max_delay_seconds=60)
    with pytest.raises(ValueError, match="12 hours"):
        budget(max_delay_seconds=SQS_MAX_VISIBILITY_SECONDS + 1)
