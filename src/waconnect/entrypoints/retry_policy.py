"""How often and how long the bridge tries again what did not take effect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from waconnect.errors import TransientError

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Attempts for a transient failure: ``attempts`` in all, waits doubling from ``delay``."""

    attempts: int = 4
    delay: float = 0.2
    max_delay: float = 2.0
    # After the attempts: keep an item younger than this (seconds) for later; 0: report at once.
    max_age: float = 0.0
    later: float = 10.0
    max_later: float = 15 * 60.0

    def waits(self) -> list[float]:
        return [min(self.delay * 2**n, self.max_delay) for n in range(self.attempts - 1)]

    def retry_after(self, age: float) -> float | None:
        """When to try an item ``age`` seconds old again; None once it is too old to wait.

        Waiting about as long as the item has already waited doubles the gaps between tries.
        """
        if age >= self.max_age:
            return None
        return min(max(age, self.later), self.max_later, self.max_age - age)


def retrying(call: Callable[[], T], *, waits: list[float], sleep: Callable[[float], None]) -> T:
    """``call()``, tried again after each of ``waits`` (``RetryPolicy.waits``) while it raises
    ``TransientError``; the last one propagates, for the caller to defer or report the item."""
    pending = list(waits)
    while True:
        try:
            return call()
        except TransientError:
            if not pending:
                raise
            sleep(pending.pop(0))
