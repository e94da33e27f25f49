"""How long a queued record may wait, and how many receives that takes: the redrive arithmetic.

A FIFO record that cannot be delivered yet (the customer's chat is being opened by another worker,
Connect has no chat capacity, a throttling storm) is not failed: the handler hides it again with
``ChangeMessageVisibility`` for a growing delay, starting at the lease and doubling up to SQS's
12-hour ceiling, until the record reaches the maximum age; then the handler dead-letters it with its
reason. Every one of those waits is one more receive, so the queue's ``maxReceiveCount`` must be
larger than the number of receives the schedule makes before the maximum age, or SQS would move a
record that is merely waiting to the dead-letter queue early. On top of that comes a margin for
receives the schedule does not plan: an invocation that times out or crashes gives the record back
after the queue's visibility timeout, without backoff.

The numbers here are the stack's; the handlers read the same lease from ``WACONNECT_LEASE_SECONDS``.
"""

from __future__ import annotations

from dataclasses import dataclass

SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60
# Lambda's advice for SQS event sources: a visibility timeout of at least six times the function
# timeout, so a batch retried after throttling is not handed out again while still in flight.
VISIBILITY_PER_TIMEOUT = 6
# Receives not planned by the backoff schedule that a record survives: crashes or timeouts of
# whole invocations (each gives the record back once the visibility timeout ends).
UNPLANNED_RECEIVES = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryBudget:
    """The redrive numbers of one FIFO queue, derived from its function's timeout."""

    function_timeout_seconds: int
    lease_seconds: int
    max_age_seconds: int

    def __post_init__(self) -> None:
        if self.lease_seconds <= self.function_timeout_seconds:
            # A lease shorter than an invocation lets a second worker take over live work.
            raise ValueError(
                f"lease ({self.lease_seconds} s) must be longer than the function timeout "
                f"({self.function_timeout_seconds} s)"
            )
        if self.max_age_seconds < self.lease_seconds:
            raise ValueError(
                f"maximum age ({self.max_age_seconds} s) must be at least the lease "
                f"({self.lease_seconds} s)"
            )
        if self.last_receive_after_seconds > SQS_MAX_RETENTION_SECONDS:
            # Records are kept 14 days at most: past that SQS deletes them, silently.
            raise ValueError(
                f"maximum age {self.max_age_seconds} s is too long: its last receive comes "
                f"{self.last_receive_after_seconds} s after the first, past SQS's 14-day retention"
            )

    @property
    def visibility_timeout_seconds(self) -> int:
        return min(
            VISIBILITY_PER_TIMEOUT * self.function_timeout_seconds, SQS_MAX_VISIBILITY_SECONDS
        )

    @property
    def planned_delays(self) -> tuple[int, ...]:
        """The waits the handler asks for, until the receive that finds the record too old."""
        delays: list[int] = []
        elapsed = 0
        delay = self.lease_seconds
        while elapsed < self.max_age_seconds:
            delays.append(delay)
            elapsed += delay
            delay = min(delay * 2, SQS_MAX_VISIBILITY_SECONDS)
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
