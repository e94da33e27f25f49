"""Injected failures of emulated API calls, answered with the error each service's model names.

A fault is armed for the next ``count`` calls of one operation (End User Messaging, Connect or
its Participant Service). The dispatcher asks before running the operation whether to wait
(``delay``: the call then still runs, however long ago the client gave up, as on AWS) and
whether to refuse it (``throttle``, ``error``), and after running it whether the bridge process
that made it is to be killed before it reads the answer (``crash``).

Error codes come from botocore's service model of the operation: its modelled throttling error
(429), or its modelled error of the requested 5xx status. An operation that models no throttling
error gets what its service's API front answers (for Connect ``TooManyRequestsException``, as
StartChatContact's documentation says; its ``LimitExceededException`` is the active-chat quota);
one that models no error of that 5xx status gets its service's, else AWS's common
``InternalFailure``/``ServiceUnavailable``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from functools import cache

from waconnect.sandbox.protocol import ApiError, service_model

EMULATED_SERVICES = ("socialmessaging", "connect", "connectparticipant", "transcribe")
THROTTLE_STATUS = 429
# What API Gateway answers for a Connect operation that models no throttling error of its own
# (StartChatContact's documentation: "API TPS throttling returns a TooManyRequests exception").
_SERVICE_THROTTLE = {
    "socialmessaging": "ThrottledRequestException",
    "connect": "TooManyRequestsException",
    "connectparticipant": "ThrottlingException",
    # Transcribe models "too many requests" as LimitExceededException (400).
    "transcribe": "LimitExceededException",
}
_THROTTLE_NAMES = ("Throttl", "TooManyRequests")
_COMMON_5XX = {503: "ServiceUnavailable"}
MIN_ERROR_STATUS, MAX_ERROR_STATUS = 500, 599


@cache
def services_of(operation: str) -> tuple[str, ...]:
    """The emulated services with an operation of this name (a few names exist in two)."""
    return tuple(
        name for name in EMULATED_SERVICES if operation in service_model(name).operation_names
    )


def throttling_error(service: str, operation: str) -> ApiError:
    """The error ``service`` answers when ``operation`` is called too fast."""
    code = _modelled(service, operation, THROTTLE_STATUS, names=_THROTTLE_NAMES, own_only=True)
    return ApiError(code or _SERVICE_THROTTLE[service], "Rate exceeded", THROTTLE_STATUS)


def server_error(service: str, operation: str, status: int) -> ApiError:
    """The error ``service`` answers when ``operation`` fails on its side with ``status``."""
    if not MIN_ERROR_STATUS <= status <= MAX_ERROR_STATUS:
        raise ValueError(f"a server error has a 5xx status, not {status}")
    code = _modelled(service, operation, status) or _COMMON_5XX.get(status, "InternalFailure")
    return ApiError(code, "An internal error occurred. Try again later.", status)


def _modelled(
    service: str,
    operation: str,
    status: int,
    *,
    names: tuple[str, ...] = (),
    own_only: bool = False,
) -> str | None:
    model = service_model(service)
    candidates = list(model.operation_model(operation).error_shapes)
    if not own_only:
        # The service's errors come second: an operation may leave out one any call can get.
        candidates += [shape for shape in model.error_shapes if shape not in candidates]
    for shape in candidates:
        if shape.metadata.get("error", {}).get("httpStatusCode") != status:
            continue
        if not names or any(name in shape.name for name in names):
            return shape.name
    return None


@dataclass(slots=True)
class _Armed:
    remaining: int
    skip: int = 0  # calls let through before this one fires (a crash at the n-th call)
    seconds: float = 0.0
    status: int = 0  # 429: throttled; 5xx: a server error; the code depends on the service
    error: ApiError | None = None  # a given error instead

    def answer(self, service: str, operation: str) -> ApiError:
        if self.error is not None:
            return self.error
        if self.status == THROTTLE_STATUS:
            return throttling_error(service, operation)
        return server_error(service, operation, self.status)


@dataclass(slots=True, kw_only=True)
class Faults:
    """Faults armed per operation, taken by the dispatcher call by call.

    ``fired`` lists ``(operation, what)`` as each fires, ``what`` being ``delay``, ``crash``
    or the error code.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _delays: dict[str, deque[_Armed]] = field(default_factory=dict)
    _errors: dict[str, deque[_Armed]] = field(default_factory=dict)
    _crashes: dict[str, deque[_Armed]] = field(default_factory=dict)
    # Latency added to every call of an operation until cleared (the sandbox page's "slow").
    _slow: dict[str, float] = field(default_factory=dict)
    # How many of the next attachment scans reject the file whatever it holds.
    _scan_rejections: int = 0
    # How many of the next events on the event bus are lost (EventBridge never delivers them).
    _lost_events: int = 0
    fired: list[tuple[str, str]] = field(default_factory=list)

    def delay(self, operation: str, seconds: float, *, count: int = 1) -> None:
        _check(operation, count)
        if seconds <= 0:
            raise ValueError("a delay is a positive number of seconds")
        self._arm(self._delays, operation, _Armed(remaining=count, seconds=seconds))

    def throttle(self, operation: str, *, count: int = 1) -> None:
        _check(operation, count)
        self._arm(self._errors, operation, _Armed(remaining=count, status=THROTTLE_STATUS))

    def error(self, operation: str, status: int, *, count: int = 1) -> None:
        _check(operation, count)
        if not MIN_ERROR_STATUS <= status <= MAX_ERROR_STATUS:
            raise ValueError(f"a server error has a 5xx status, not {status}")
        self._arm(self._errors, operation, _Armed(remaining=count, status=status))

    def fail_next(self, operation: str, count: int, error: ApiError) -> None:
        """Any error for the next ``count`` calls (what no model names, for tests of it)."""
        self._arm(self._errors, operation, _Armed(remaining=count, error=error))

    def crash(self, operation: str, *, nth: int = 1) -> None:
        """Kill the caller of the ``nth`` call of ``operation`` from now, once it has run."""
        _check(operation, 1)
        if nth < 1:
            raise ValueError("nth counts from 1")
        self._arm(self._crashes, operation, _Armed(remaining=1, skip=nth - 1))

    def slow_down(self, operation: str, seconds: float) -> None:
        """Every call of ``operation`` from now on is answered ``seconds`` late (until cleared)."""
        _check(operation, 1)
        if seconds <= 0:
            raise ValueError("a delay is a positive number of seconds")
        with self._lock:
            self._slow[operation] = seconds

    def reject_next_scan(self, count: int = 1) -> None:
        with self._lock:
            self._scan_rejections += count

    def scan_verdict(self, verdict: str) -> str:
        """The scanner's ``verdict``, unless a rejection was injected for this scan."""
        with self._lock:
            if self._scan_rejections <= 0:
                return verdict
            self._scan_rejections -= 1
            self.fired.append(("scan", "REJECTED"))
            return "REJECTED"

    def lose_next_events(self, count: int = 1) -> None:
        with self._lock:
            self._lost_events += count

    def event_lost(self, detail_type: str) -> bool:
        """Whether the event about to be delivered is lost (an injected loss is taken)."""
        with self._lock:
            if self._lost_events <= 0:
                return False
            self._lost_events -= 1
            self.fired.append((detail_type, "lost"))
            return True

    def clear(self) -> None:
        with self._lock:
            self._delays.clear()
            self._errors.clear()
            self._crashes.clear()
            self._slow.clear()
            self._scan_rejections = 0
            self._lost_events = 0

    def take_delay(self, operation: str) -> float:
        armed = self._take(self._delays, operation, "delay")
        with self._lock:
            slow = self._slow.get(operation, 0.0)
        return slow + (armed.seconds if armed is not None else 0.0)

    def take_error(self, service: str, operation: str) -> ApiError | None:
        with self._lock:
            armed = self._take_locked(self._errors, operation)
            if armed is None:
                return None
            error = armed.answer(service, operation)
            self.fired.append((operation, error.code))
            return error

    def take_crash(self, operation: str) -> bool:
        return self._take(self._crashes, operation, "crash") is not None

    def _arm(self, table: dict[str, deque[_Armed]], operation: str, armed: _Armed) -> None:
        with self._lock:
            table.setdefault(operation, deque()).append(armed)

    def _take(self, table: dict[str, deque[_Armed]], operation: str, what: str) -> _Armed | None:
        with self._lock:
            armed = self._take_locked(table, operation)
            if armed is not None:
                self.fired.append((operation, what))
            return armed

    @staticmethod
    def _take_locked(table: dict[str, deque[_Armed]], operation: str) -> _Armed | None:
        queue = table.get(operation)
        if not queue:
            return None
        armed = queue[0]
        if armed.skip:
            armed.skip -= 1
            return None
        armed.remaining -= 1
        if armed.remaining <= 0:
            queue.popleft()
        return armed


def _check(operation: str, count: int) -> None:
    if not services_of(operation):
        raise ValueError(f"{operation!r} is not an operation of {', '.join(EMULATED_SERVICES)}")
    if count < 1:
        raise ValueError("count is at least 1")
