"""How long a queued record may wait, and how many receives that takes: the redrive arithmetic.

A FIFO record that cannot be delivered yet (another worker holds the customer's lease, Connect
has no chat capacity, a throttling storm) is not failed: the handler hides it again with
``ChangeMessageVisibility`` for a delay doubling from the base up to the maximum delay
(``WACONNECT_RETRY_*``), until the record is ``max_age`` old; then the handler dead-letters it
with its reason. Every wait is one more receive, so the queue's ``maxReceiveCount`` must exceed
the receives that schedule makes before the maximum age, or SQS would move a record that is merely
waiting to the dead-letter queue early. On top comes a margin for receives the schedule does not
plan: an invocation that times out or crashes gives its records back after the queue's
visibility timeout, without backoff.
"""

from __future__ import annotations

from dataclasses import dataclass

SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
SQS_MAX_RECEIVE_COUNT = 1000
# Lambda's advice for SQS event sources: a visibility timeout of at least six times the function
# timeout, so a batch retried after throttling is not handed out again while still in flight.
VISIBILITY_PER_TIMEOUT = 6
# Receives not planned by the backoff schedule that a record survives: crashes or timeouts of
# whole invocations (each gives the record back once the visibility timeout ends).
UNPLANNED_RECEIVES = 5


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
            raise ValueError(
                f"maximum retry delay {self.max_delay_seconds} s is over SQS's 12 hours"
            )
        if self.last_receive_after_seconds > SQS_MAX_RETENTION_SECONDS:
            # Records are kept 14 days at most: past that SQS deletes them, silently.
            raise ValueError(
                f"maximum age {self.max_age_seconds} s is too long: the last receive may come "
                f"{self.last_receive_after_seconds} s after the first, past SQS's 14 days"
            )
        if self.max_receive_count > SQS_MAX_RECEIVE_COUNT:
            raise ValueError(
                f"the retry schedule needs {self.max_receive_count} receives, over SQS's "
                f"{SQS_MAX_RECEIVE_COUNT}: raise the retry delays or lower the maximum age"
            )

    @property
    def visibility_timeout_seconds(self) -> int:
        return min(
            VISIBILITY_PER_TIMEOUT * self.function_timeout_seconds, SQS_MAX_VISIBILITY_SECONDS
        )

    @property
    def planned_delays(self) -> tuple[int, ...]:
        """The waits the handler asks for, up to the receive that finds the record too old."""
        delays: list[int] = []
        elapsed = 0
        delay = self.base_delay_seconds
        while elapsed < self.max_age_seconds:
            delays.append(delay)
            elapsed += delay
            delay = min(delay * 2, self.max_delay_seconds)
        return tuple(delays)

    @property
    def planned_receives(self) -> int:
        """Receives of a record that waits until its maximum age: the first plus one per wait."""
        return 1 + len(self.planned_delays)

    @property
    def max_receive_count(self) -> int:
        return self.planned_receives + UNPLANNED_RECEIVES

    @property
    def last_receive_after_seconds(self) -> int:
        """When the record is last received, at worst: every planned wait plus the unplanned."""
        return sum(self.planned_delays) + UNPLANNED_RECEIVES * self.visibility_timeout_seconds
