"""Emulated SNS topics: ordered, non-blocking delivery of SNS HTTP envelopes to subscribers."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from waconnect.sandbox.inflight import InFlight

logger = logging.getLogger(__name__)

Subscriber = Callable[[str], None]

_SIGNING_CERT_URL = "https://sns.{region}.amazonaws.com/SimpleNotificationService-sandbox.pem"


def iso_millis(epoch: float) -> str:
    """``2026-11-24T10:00:00.123Z``, the timestamp format of SNS and Connect."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Topic:
    """One standard SNS topic.

    ``publish`` only queues; ``workers`` threads deliver to every subscriber, each getting the
    JSON text an SNS HTTP(S) subscription would receive. With one worker deliveries come one at
    a time in publish order; with more they overlap and may finish in any order, as real SNS
    delivers. A subscriber that raises is logged and recorded in ``errors``; delivery goes on.
    """

    def __init__(
        self,
        arn: str,
        *,
        now: Callable[[], float] = time.time,
        workers: int = 1,
        inflight: InFlight | None = None,
    ) -> None:
        if not arn.startswith("arn:aws:sns:") or arn.count(":") != 5:
            raise ValueError(f"not an SNS topic ARN: {arn!r}")
        if workers < 1:
            raise ValueError(f"a topic needs at least one worker, not {workers}")
        self.arn = arn
        self.workers = workers
        self._now = now
        # Each notification counts as in flight from its publication to its last subscriber.
        self._inflight = inflight or InFlight()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._subscribers: list[Subscriber] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._pending = 0
        self._published = 0
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.errors: list[BaseException] = []
        self.delivered: list[str] = []

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def subscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            self._subscribers.remove(callback)

    def publish(
        self, document: Mapping[str, Any], *, attributes: Mapping[str, str] | None = None
    ) -> str:
        """Queue ``document`` (the SNS ``Message``, as JSON) for delivery; returns its MessageId."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"topic {self.arn} is closed")
            self._published += 1
            message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}#{self._published}"))
            envelope = self._envelope(message_id, json.dumps(document), attributes or {})
            self._pending += 1
            self._inflight.begin()
            if not self._threads:
                name = self.arn.rsplit(":", 1)[1]
                for index in range(self.workers):
                    thread = threading.Thread(
                        target=self._deliver_forever, name=f"sns-{name}-{index}", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)
        self._queue.put(envelope)
        return message_id

    def _envelope(self, message_id: str, message: str, attributes: Mapping[str, str]) -> str:
        account_and_name = self.arn.split(":", 4)[4]
        envelope: dict[str, Any] = {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": self.arn,
            "Message": message,
            "Timestamp": iso_millis(self._now()),
            "SignatureVersion": "1",
            # Not a real signature: sandbox subscribers are in-process and trust the emulator.
            "Signature": base64.b64encode(hashlib.sha256(message.encode()).digest()).decode(),
            "SigningCertURL": _SIGNING_CERT_URL.format(region=self.region),
            "UnsubscribeURL": (
                f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe"
                f"&SubscriptionArn={self.arn}:{account_and_name.split(':')[0]}"
            ),
        }
        if attributes:
            envelope["MessageAttributes"] = {
                name: {"Type": "String", "Value": value} for name, value in attributes.items()
            }
        return json.dumps(envelope)

    def _deliver_forever(self) -> None:
        while True:
            envelope = self._queue.get()
            if envelope is None:
                return
            with self._lock:
                subscribers = list(self._subscribers)
            for subscriber in subscribers:
                try:
                    subscriber(envelope)
                except Exception as exc:  # a subscriber must never stop delivery
                    logger.exception("subscriber of %s failed", self.arn)
                    with self._lock:
                        self.errors.append(exc)
            with self._lock:
                self.delivered.append(envelope)
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
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _thread in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Topics:
    """The cloud's SNS topics by ARN, each created on first use."""

    def __init__(self, *, now: Callable[[], float], inflight: InFlight) -> None:
        self._now = now
        self._inflight = inflight
        self._lock = threading.Lock()
        self._topics: dict[str, Topic] = {}

    def get_or_create(self, arn: str, *, workers: int = 1) -> Topic:
        with self._lock:
            topic = self._topics.get(arn)
            if topic is None:
                topic = Topic(arn, now=self._now, workers=workers, inflight=self._inflight)
                self._topics[arn] = topic
            return topic

    def existing(self, arn: str) -> Topic | None:
        with self._lock:
            return self._topics.get(arn)

    def close(self) -> None:
        with self._lock:
            topics = list(self._topics.values())
        for topic in topics:
            topic.close()
