"""When a message that could not be delivered yet is tried again, and when it is given up.

On Lambda a message waits in its SQS FIFO queue between tries: the handler hides it for the
next delay (``ChangeMessageVisibility``) and reports it failed, which also holds the rest of its
message group, so the customer's order is kept. Delays double from a base up to a maximum (at
most SQS's 12 hours); once the message is older than the maximum age it is dead-lettered with
its reason.

SQS counts receives, not time: the queue's ``maxReceiveCount`` must let a message live to the
maximum age, or SQS would dead-letter a customer waiting for chat capacity too soon.
``receives_to_reach`` gives the count for a schedule; ``CRASH_ALLOWANCE`` receives are added
for invocations that end without a word (a timeout, a container killed) and still count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SQS_MAX_VISIBILITY_SECONDS = 12 * 3600
# SQS refuses a maxReceiveCount above this.
SQS_MAX_RECEIVE_COUNT = 1000
CRASH_ALLOWANCE = 5
# A message that fails without anyone being told (an unexpected error) is dead-lettered after
# this many receives: it will not get better by waiting, and it holds its customer's queue.
POISON_RECEIVES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySchedule:
    base_seconds: int = 10
    max_delay_seconds: int = 15 * 60
    max_age_seconds: int = 24 * 3600

    def delay(self, receive_count: int) -> int:
        """Seconds to hide a message after its ``receive_count``-th receive failed (1-based)."""
        doubling: int = self.base_seconds << min(max(receive_count - 1, 0), 30)
        return min(doubling, self.max_delay_seconds, SQS_MAX_VISIBILITY_SECONDS)

    def next_delay(
        self, *, receive_count: int, age_seconds: float, at_least: float = 0.0
    ) -> int | None:
        """The delay before the next try, or None when the message is too old to try again.

        ``at_least``: what the bridge asked for (the rest of another worker's lease).
        """
        asked = min(math.ceil(at_least), SQS_MAX_VISIBILITY_SECONDS)
        delay = max(self.delay(receive_count), asked)
        if age_seconds + delay > self.max_age_seconds:
            return None
        return delay

    def receives_to_reach(self) -> int:
        """The ``maxReceiveCount`` that lets a message wait until ``max_age_seconds``."""
        waited, receives = 0, 0
        while waited < self.max_age_seconds:
            receives += 1
            step = self.delay(receives)
            if step <= 0:
                # No delay at all: every receive comes at once, so time never adds up.
                return SQS_MAX_RECEIVE_COUNT
            if step == self.max_delay_seconds:
                receives += math.ceil((self.max_age_seconds - waited) / step) - 1
                break
            waited += step
        return min(receives + CRASH_ALLOWANCE, SQS_MAX_RECEIVE_COUNT)
