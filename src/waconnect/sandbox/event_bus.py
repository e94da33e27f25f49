"""The emulated EventBridge default bus: AWS services' events delivered to their subscribers.

A rule target on AWS (a queue, a function) receives each event as the JSON EventBridge wrote;
here a subscriber gets the same JSON object. Delivery is off the publisher's thread, in publish
order, and counted in flight from publication to its last subscriber, so the cloud does not
settle while an event is still on its way.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.topics import iso_millis

logger = logging.getLogger(__name__)

Subscriber = Callable[[dict[str, Any]], None]


class EventBus:
    def __init__(
        self, *, account: str, region: str, now: Callable[[], float], inflight: InFlight
    ) -> None:
        self._account = account
        self._region = region
        self._now = now
        self._inflight = inflight
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.delivered: list[dict[str, Any]] = []

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.remove(callback)

    def publish(self, *, source: str, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Queue one event in EventBridge's envelope; returns its id."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": detail_type,
            "source": source,
            "account": self._account,
            "time": iso_millis(self._now()).split(".")[0] + "Z",
            "region": self._region,
            "resources": [],
            "detail": dict(detail),
        }
        with self._lock:
            if self._closed:
                raise RuntimeError("the event bus is closed")
            self._inflight.begin()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver_forever, name="eventbridge", daemon=True
                )
                self._thread.start()
        self._queue.put(event)
        return str(event["id"])

    def _deliver_forever(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(event)
                except Exception:  # a subscriber must never stop delivery
                    logger.exception("subscriber of the event bus failed")
            with self._lock:
                self.delivered.append(event)
            self._inflight.end()

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)
