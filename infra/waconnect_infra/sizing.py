"""The redrive numbers of a FIFO queue: taken from the handlers' own retry schedule.

A record that cannot be delivered yet is hidden again with ``ChangeMessageVisibility`` for a
delay doubling from the base up to the maximum (``WACONNECT_RETRY_*``) until it reaches the
maximum age; then the handler dead-letters it with its reason. SQS counts receives, not time, so
the queue's ``maxReceiveCount`` must let a record be received as often as that schedule asks, or
SQS would dead-letter a customer who is merely waiting for chat capacity. The count comes from the
handlers' ``RetrySchedule.receives_to_reach`` (the schedule's receives plus an allowance for
invocations that crash or time out), so the stack and the code cannot disagree. This module adds
what only the stack decides: the visibility timeout, and checks that SQS can hold the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

from waconnect.entrypoints.lambda_handlers.schedule import (
    CRASH_ALLOWANCE,
    SQS_MAX_RECEIVE_COUNT,
    SQS_MAX_VISIBILITY_SECONDS,
    RetrySchedule,
)

SQS_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
# Lambda's advice for SQS event sources: a visibility timeout of at least six times the function
# timeout, so a batch retried after throttling is not handed out again while still in flight.
VISIBILITY_PER_TIMEOUT = 6


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryBudget:
    """The redrive numbers of one FIFO queue, from its function's timeout and the retry policy."""

    function_timeout_seconds: int
    base_delay_seconds: int
    max_delay_seconds: int
    max_age_seconds: int

    def __post_init__(self) -> None:
        if not 1 <= self.base_delay_seconds <= self.max_delay_seconds:
            raise ValueError(
                f"retry delays must grow from at least 1 s: base {self.base_delay_seconds} s, "
                f"maximum {self.max_delay_seconds} s"
            )
        if self.max_delay_seconds > SQS_MAX_VISIBILITY_SECONDS:
            raise ValueError(f"maximum retry delay {self.max_delay_seconds} s is over 12 hours")
        if self.max_receive_count >= SQS_MAX_RECEIVE_COUNT:
            # receives_to_reach stops at SQS's limit: a schedule that needs it all would be cut.
            raise ValueError(
                f"the retry schedule needs {SQS_MAX_RECEIVE_COUNT} receives or more, SQS's "
                "limit: raise the retry delays or lower the maximum age"
            )
        if self.last_receive_after_seconds > SQS_MAX_RETENTION_SECONDS:
            # Records are kept 14 days at most: past that SQS deletes them, silently.
            raise ValueError(
                f"maximum age {self.max_age_seconds} s is too long: the last receive may come "
                f"{self.last_receive_after_seconds} s after the first, past SQS's 14 days"
            )

    @property
    def schedule(self) -> RetrySchedule:
        return RetrySchedule(
            base_seconds=self.base_delay_seconds,
            max_delay_seconds=self.max_delay_seconds,
            max_age_seconds=self.max_age_seconds,
        )

    @property
    def max_receive_count(self) -> int:
        return self.schedule.receives_to_reach()

    @property
    def visibility_timeout_seconds(self) -> int:
        return min(
            VISIBILITY_PER_TIMEOUT * self.function_timeout_seconds, SQS_MAX_VISIBILITY_SECONDS
        )

    @property
    def last_receive_after_seconds(self) -> int:
        """When a record is last received, at worst: the whole schedule plus every crash."""
        return self.max_age_seconds + CRASH_ALLOWANCE * self.visibility_timeout_seconds
