"""The emulated EventBridge default bus: AWS services' events delivered to their subscribers.

A rule target on AWS (a queue, a function) receives each event as the JSON EventBridge wrote;
here a subscriber gets the same JSON object. Delivery is off the publisher's thread, in publish
order, and counted in flight from publication to its last subscriber (``fanout``), so the cloud
does not settle while an event is still on its way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from waconnect.sandbox.fanout import Fanout
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.topics import iso_millis


class EventBus(Fanout[dict[str, Any]]):
    def __init__(
        self, *, account: str, region: str, now: Callable[[], float], inflight: InFlight
    ) -> None:
        super().__init__("the event bus", thread_name="eventbridge", workers=1, inflight=inflight)
        self._account = account
        self._region = region
        self._now = now

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
        self._send(event)
        return str(event["id"])
