"""The last message each customer sent, remembered in process for typing indicators.

It is an optimisation, not state: a restart forgets it and the typing indicator is skipped
until the customer writes again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from waconnect.domain.session import SessionKey


class RecentMessages:
    """Bounded map of session key to the customer's latest wamid (least recently used goes)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._items: OrderedDict[SessionKey, str] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, key: SessionKey, wamid: str) -> None:
        with self._lock:
            self._items[key] = wamid
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def last(self, key: SessionKey) -> str:
        with self._lock:
            return self._items.get(key, "")
