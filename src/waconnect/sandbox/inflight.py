"""What the emulated cloud is busy with: requests being answered and notifications being delivered.

One counter for all of them. Work that causes more work (a request that publishes a streaming
notification, a delivery whose bridge calls an API) begins the new work before it ends itself,
so the counter reaches zero only when nothing is left anywhere: settling waits for that moment
instead of for a quiet spell.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    def __init__(self) -> None:
        self._idle = threading.Condition(threading.Lock())
        self._count = 0

    @property
    def count(self) -> int:
        with self._idle:
            return self._count

    def begin(self) -> None:
        with self._idle:
            self._count += 1

    def end(self) -> None:
        with self._idle:
            if self._count <= 0:
                raise RuntimeError("more work ended than began")
            self._count -= 1
            if self._count == 0:
                self._idle.notify_all()

    @contextmanager
    def holding(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        finally:
            self.end()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is in flight; False if that did not happen within ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout)
