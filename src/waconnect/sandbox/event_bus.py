"""The emulated EventBridge default bus: AWS services' events delivered to their subscribers.

A rule target on AWS (a queue, a function) receives each event as the JSON EventBridge wrote;
here a subscriber gets the same JSON object. Delivery is off the publisher's thread, in publish
order, and counted in flight from publication to its last subscriber (``fanout``), so the cloud
does not settle while an event is still on its way. ``lost`` says whether an event is to be lost
instead (a fault injected: a wrong rule, a dead-letter queue that took it); a lost event reaches
no subscriber and is listed in ``lost_events``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from waconnect.sandbox.fanout import Fanout
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.topics import iso_millis

logger = logging.getLogger(__name__)


class EventBus(Fanout[dict[str, Any]]):
    def __init__(
        self,
        *,
        account: str,
        region: str,
        now: Callable[[], float],
        inflight: InFlight,
        lost: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__("the event bus", thread_name="eventbridge", workers=1, inflight=inflight)
        self._account = account
        self._region = region
        self._now = now
        self._lost = lost
        self.lost_events: list[dict[str, Any]] = []

    def publish(self, *, source: str, detail_type: str, detail: Mapping[str, Any]) -> str:
        """Queue one event in EventBridge's envelope (or lose it); returns its id."""
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
        if self._lost is not None and self._lost(detail_type):
            logger.info("event %s lost on its way (an injected fault)", event["id"])
            with self._lock:
                self.lost_events.append(event)
        else:
            self._send(event)
        return str(event["id"])
