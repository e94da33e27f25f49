"""The delivery loop of the emulated SNS topics and EventBridge bus: items handed to every
subscriber off the publisher's thread.

``workers`` threads deliver. With one, deliveries come one at a time in publish order; with more
they overlap and may finish in any order, as real SNS delivers. Each item is in flight from its
publication to its last subscriber, so the cloud does not settle while one is on its way. A
subscriber that raises is logged and recorded in ``errors``; delivery goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from waconnect.sandbox.inflight import InFlight

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Fanout(Generic[T]):
    def __init__(self, name: str, *, thread_name: str, workers: int, inflight: InFlight) -> None:
        if workers < 1:
            raise ValueError(f"{name} needs at least one worker, not {workers}")
        self.workers = workers
        self._name = name
        self._thread_name = thread_name
        self._inflight = inflight
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._subscribers: list[Callable[[T], None]] = []
        self._queue: queue.Queue[tuple[T] | None] = queue.Queue()
        self._pending = 0
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.errors: list[BaseException] = []
        self.delivered: list[T] = []

    def subscribe(self, callback: Callable[[T], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[T], None]) -> None:
        with self._lock:
            self._subscribers.remove(callback)

    def _send(self, item: T) -> None:
        """Queue ``item`` for every subscriber; RuntimeError once closed."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is closed")
            self._pending += 1
            self._inflight.begin()
            if not self._threads:
                for index in range(self.workers):
                    thread = threading.Thread(
                        target=self._deliver_forever,
                        name=f"{self._thread_name}-{index}",
                        daemon=True,
                    )
                    thread.start()
                    self._threads.append(thread)
        self._queue.put((item,))

    def _deliver_forever(self) -> None:
        while True:
            queued = self._queue.get()
            if queued is None:
                return
            (item,) = queued
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(item)
                except Exception as exc:  # a subscriber must never stop delivery
                    logger.exception("subscriber of %s failed", self._name)
                    with self._lock:
                        self.errors.append(exc)
            with self._lock:
                self.delivered.append(item)
                self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()
            self._inflight.end()

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything published so far was delivered, including deliveries still
        running on other workers; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """No more publishing; the workers finish what is queued and stop."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _thread in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
