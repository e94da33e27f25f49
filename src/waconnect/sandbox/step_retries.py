"""What the bridge kept to retry, handed in again when a replay step settles.

The replay clock stands still, so "due" cannot come with time: at each step's end every kept
document (in process or in worker processes: ``Bridge.run_due``) or kept queue record (through
the Lambda harness: ``LocalLambda.run_due``) is handed in once more, as if its retry time had
come, and what that causes settles too. One still waiting stays kept for the next step.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from waconnect.sandbox.scenario_delivery import journal_outcomes

if TYPE_CHECKING:
    from waconnect.sandbox.cloud import Cloud
    from waconnect.sandbox.lambda_local import LocalLambda
    from waconnect.sandbox.replay_world import ReplayWorld

SETTLE_TIMEOUT_SECONDS = 120.0


class StepRetries:
    def __init__(self, world: ReplayWorld) -> None:
        self._world = world
        self._round = 0

    @property
    def _cloud(self) -> Cloud:
        return self._world.cloud

    def settle(self) -> bool:
        """Wait until nothing is in flight; False when that takes too long."""
        return self._cloud.settle(timeout=SETTLE_TIMEOUT_SECONDS)

    def hand_in(self) -> bool:
        """Hand in what is kept and settle what that causes; False when that takes too long."""
        harness = self._world.harness
        if harness is not None:
            return self._records(harness)
        host = self._world.host
        if host is None:
            return True
        self._round += 1
        # Each round is a retry later than the last, so growing backoffs come due too.
        stride = self._world.settings.retry_max_delay_seconds + 1
        again = host.run_due(self._cloud.clock.now() + self._round * stride)
        if not again:
            return True
        journal_outcomes(self._cloud.journal, again)
        return self.settle()

    def _records(self, harness: LocalLambda) -> bool:
        """Through Lambda: the records the functions keep go back on their queues at once.

        A round whose tries met injected faults (they run out, as throttling passes with time)
        is followed by another; after a round that met none, what still waits stays kept.
        """
        faults = self._cloud.faults
        deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            fired = len(faults.fired)
            handed = harness.run_due()
            # Settled even when nothing was handed in: a kept record whose own delay ran out
            # meanwhile is being tried by now, and what it causes belongs to this step.
            if not self._cloud.settle(timeout=max(0.0, deadline - time.monotonic())):
                return False
            if not handed or len(faults.fired) == fired:
                return True
        return False
