"""One lock per key, made on demand and forgotten when nobody holds or waits for it.

The bridge serialises one customer's work in process (the sandbox and the server run one
bridge process; on AWS an SQS FIFO message group does the same job).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager


class KeyedLock:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        # key -> (lock, number of threads holding or waiting for it)
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Run the block while no other thread runs a block for the same ``key``."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    @contextmanager
    def hold_all(self, keys: Iterable[str]) -> Iterator[None]:
        """Run the block while no other thread runs a block for any of ``keys`` (a customer
        known by two ids); taken in sorted order, so two holders of shared keys never deadlock."""
        with ExitStack() as stack:
            for key in sorted(set(keys)):
                stack.enter_context(self.hold(key))
            yield

    def __len__(self) -> int:
        """Keys currently held or waited for."""
        with self._guard:
            return len(self._locks)
