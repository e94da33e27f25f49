"""The emulators' clock: real time plus whatever a test or scenario moved it forward."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SandboxClock:
    """Seconds since the epoch, as the emulated cloud sees them.

    It ticks with real time from ``start`` (default: the real time now) and ``advance`` jumps it
    forward, so expiries (connection tokens, signed URLs, chat durations) can be reached without
    waiting. Listeners run after each jump so the cloud can end what expired. A clock that does
    not tick (``ticking=False``) moves only when advanced: replay uses one, so that times the
    emulators hand out (message timestamps, file names built from them) are the same every run.
    """

    def __init__(self, start: float | None = None, *, ticking: bool = True) -> None:
        self._lock = threading.Lock()
        self._origin = time.time() if start is None else start
        self._ticking = ticking
        self._mono = time.monotonic()
        self._offset = 0.0
        self._listeners: list[Callable[[], None]] = []

    @property
    def ticking(self) -> bool:
        return self._ticking

    def now(self) -> float:
        with self._lock:
            elapsed = time.monotonic() - self._mono if self._ticking else 0.0
            return self._origin + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def on_advance(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)
