"""Emulated SNS topics: ordered, non-blocking delivery of SNS HTTP envelopes to subscribers."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from waconnect.sandbox.fanout import Fanout
from waconnect.sandbox.inflight import InFlight

_SIGNING_CERT_URL = "https://sns.{region}.amazonaws.com/SimpleNotificationService-sandbox.pem"


def iso_millis(epoch: float) -> str:
    """``2026-11-24T10:00:00.123Z``, the timestamp format of SNS and Connect."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Topic(Fanout[str]):
    """One standard SNS topic.

    ``publish`` only queues; each subscriber gets the JSON text an SNS HTTP(S) subscription
    would receive, delivered as ``fanout`` says.
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
        super().__init__(
            f"topic {arn}",
            thread_name=f"sns-{arn.rsplit(':', 1)[1]}",
            workers=workers,
            inflight=inflight or InFlight(),
        )
        self.arn = arn
        self._now = now
        self._published = itertools.count(1)

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def publish(
        self, document: Mapping[str, Any], *, attributes: Mapping[str, str] | None = None
    ) -> str:
        """Queue ``document`` (the SNS ``Message``, as JSON) for delivery; returns its MessageId."""
        message_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.arn}#{next(self._published)}"))
        self._send(self._envelope(message_id, json.dumps(document), attributes or {}))
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
