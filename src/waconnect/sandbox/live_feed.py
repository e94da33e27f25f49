"""What the sandbox page watches live: the wire events both ways, and a poke when state changed.

Three sources feed it: End User Messaging notifications and Connect streaming notifications (as
the bridge receives them from their topics) and every API call the bridge made to the emulators,
with its status. Each becomes one :class:`WireEvent`; the newest are kept (a bounded list) and
sent to every open page over server-sent events.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

KEEP_EVENTS = 500
# A request's parameters are shown in full up to this many characters of JSON, then cut.
_MAX_SHOWN = 4000


@dataclass(frozen=True, slots=True, kw_only=True)
class WireEvent:
    seq: int
    at: float
    direction: str  # "in" (to the bridge), "out" (a call the bridge made), "sandbox" (to it)
    source: str  # "End User Messaging", "Connect streaming", or the called service
    title: str
    status: int = 0
    error: str = ""
    body: str = ""  # JSON text, pretty-printed


class LiveFeed:
    """A bounded log of wire events plus fan-out to server-sent-event listeners."""

    def __init__(self, keep: int = KEEP_EVENTS) -> None:
        self._lock = threading.Lock()
        self._events: deque[WireEvent] = deque(maxlen=keep)
        self._seq = itertools.count(1)
        self._listeners: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = []
        self._closed = False

    # --- sources -------------------------------------------------------------------------------

    def notification(self, source: str, envelope: str) -> None:
        """An SNS envelope a topic delivered to the bridge."""
        try:
            outer = json.loads(envelope)
            inner: Any = json.loads(outer.get("Message", "null"))
        except (ValueError, AttributeError):
            inner = envelope
        title = _notification_title(source, inner)
        self._add(direction="in", source=source, title=title, body=_pretty(inner))

    def call(
        self, service: str, operation: str, status: int, params: Mapping[str, Any], error: str
    ) -> None:
        """An API call the bridge made, as the emulator answered it."""
        self._add(
            direction="out",
            source=service,
            title=f"{service}.{operation or '?'}",
            status=status,
            error=error,
            body=_pretty(dict(params)),
        )

    def note(self, source: str, title: str, details: Mapping[str, Any]) -> None:
        """Something the sandbox did to the bridge itself (a crash and the takeover)."""
        self._add(direction="sandbox", source=source, title=title, body=_pretty(dict(details)))

    def changed(self) -> None:
        """Something the page shows changed: tell every listener to read the state again."""
        self._broadcast("event: state\ndata: {}\n\n")

    # --- readers -------------------------------------------------------------------------------

    def events(self, limit: int = KEEP_EVENTS) -> list[dict[str, Any]]:
        """The newest ``limit`` events, newest first."""
        with self._lock:
            newest = list(self._events)[-limit:]
        return [asdict(event) for event in reversed(newest)]

    async def stream(self) -> AsyncIterator[str]:
        """Server-sent events for one page, until the feed closes or the page goes away."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            if self._closed:
                return
            self._listeners.append(entry)
        try:
            yield "retry: 1000\n\n"
            while True:
                message = await queue.get()
                if not message:
                    return
                yield message
        finally:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

    def close(self) -> None:
        """End every open stream (the server can then shut down without waiting on them)."""
        with self._lock:
            self._closed = True
        self._broadcast("")

    # --- internals -----------------------------------------------------------------------------

    def _add(self, **fields: Any) -> None:
        with self._lock:
            event = WireEvent(seq=next(self._seq), at=time.time(), **fields)
            self._events.append(event)
        self._broadcast(f"event: wire\ndata: {json.dumps(asdict(event))}\n\n")
        self.changed()

    def _broadcast(self, message: str) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for loop, queue in listeners:
            # A page whose loop is gone raises here; its stream's ``finally`` removes it.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, message)


def _notification_title(source: str, inner: Any) -> str:
    if not isinstance(inner, dict):
        return source
    if "ContactId" in inner:
        kind = inner.get("Type", "")
        content_type = inner.get("ContentType", "")
        return f"{source}: {kind} {content_type} ({inner.get('ParticipantRole', '')})".strip()
    entry = inner.get("whatsAppWebhookEntry")
    if isinstance(entry, str):
        try:
            changes = json.loads(entry).get("changes", [])
            value = changes[0].get("value", {}) if changes else {}
        except (ValueError, AttributeError, IndexError):
            value = {}
        if value.get("messages"):
            return f"{source}: message ({value['messages'][0].get('type', '?')})"
        if value.get("statuses"):
            return f"{source}: status {value['statuses'][0].get('status', '?')}"
    return source


def _pretty(value: Any) -> str:
    """JSON for a person: nested JSON strings (an EUM webhook entry) opened, long bodies cut."""
    opened = _open_nested(value)
    text = json.dumps(opened, indent=2, ensure_ascii=False, default=str)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "\n…"


def _open_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _open_nested(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_open_nested(item) for item in value]
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return _open_nested(json.loads(value))
        except ValueError:
            return value
    return value
