"""Scenario steps that set conditions rather than act: faults, crashes, Connect's chat quota.

They cause no effect of their own; the effects show in the steps that run into them
(docs/replay.md, "Faults and crashes").
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_FAULT_COUNT = 100
MAX_DELAY_SECONDS = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultDelay:
    """The next ``count`` calls of ``operation`` are answered ``seconds`` late (and still run)."""

    operation: str
    seconds: float
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultThrottle:
    """The next ``count`` calls of ``operation`` are refused as throttled."""

    operation: str
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultError:
    """The next ``count`` calls of ``operation`` fail on the service's side with ``status``."""

    operation: str
    status: int
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultSlow:
    """Every call of ``operation`` from now on is answered ``seconds`` late, until cleared."""

    operation: str
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultClear:
    """Every fault armed so far is taken back (slow operations, scanner rejections included)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScannerReject:
    """Connect's attachment scan rejects the next ``count`` files, whatever they hold."""

    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class EventsLost:
    """EventBridge loses the next ``count`` events (Transcribe's job state changes): no rule
    target gets them."""

    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgeCrash:
    """The bridge process making the ``nth`` call of ``operation`` from now is killed once the
    call has run and before it reads the answer; a fresh one takes over."""

    operation: str
    nth: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatQuota:
    """Connect refuses new chats past ``active_chats`` active ones (0: no quota)."""

    active_chats: int


Control = (
    FaultDelay
    | FaultThrottle
    | FaultError
    | FaultSlow
    | FaultClear
    | ScannerReject
    | EventsLost
    | BridgeCrash
    | ChatQuota
)
