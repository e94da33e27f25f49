"""The redrive numbers: a record waiting for capacity reaches its maximum age before the DLQ."""

from __future__ import annotations

import pytest

from waconnect.entrypoints.lambda_handlers.schedule import CRASH_ALLOWANCE
from waconnect_infra.sizing import SQS_MAX_VISIBILITY_SECONDS, RetryBudget


def budget(**overrides: int) -> RetryBudget:
    values = {
        "function_timeout_seconds": 120,
        "base_delay_seconds": 10,
        "max_delay_seconds": 900,
        "max_age_seconds": 24 * 3600,
    }
    values.update(overrides)
    return RetryBudget(**values)


@pytest.mark.parametrize(
    ("base", "largest", "hours"), [(10, 900, 24), (5, 60, 1), (60, 43200, 24 * 7), (30, 600, 72)]
)
def test_a_record_waiting_out_the_schedule_is_never_dead_lettered_by_sqs(
    base: int, largest: int, hours: int
) -> None:
    b = budget(base_delay_seconds=base, max_delay_seconds=largest, max_age_seconds=hours * 3600)
    schedule = b.schedule
    # Play SQS and the handler: each receive counts; the handler hides the record for the next
    # delay until waiting again would take it past the maximum age, then gives up itself.
    age, receives = 0, 0
    while True:
        receives += 1
        delay = schedule.next_delay(receive_count=receives, age_seconds=age)
        if delay is None:
            break
        age += delay
    # SQS moves a record after maxReceiveCount receives: the handler got to decide first, with
    # room left for invocations that crash or time out.
    assert receives + CRASH_ALLOWANCE <= b.max_receive_count


def test_the_default_schedule_allows_107_receives() -> None:
    assert budget().max_receive_count == 107


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


def test_a_schedule_needing_a_thousand_receives_is_refused() -> None:
    with pytest.raises(ValueError, match="SQS's limit"):
        budget(max_delay_seconds=60, max_age_seconds=3 * 24 * 3600)


def test_delays_that_shrink_or_exceed_twelve_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="must grow"):
        budget(base_delay_seconds=600, max_delay_seconds=60)
    with pytest.raises(ValueError, match="12 hours"):
        budget(max_delay_seconds=SQS_MAX_VISIBILITY_SECONDS + 1)
