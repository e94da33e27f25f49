"""How the local Lambda harness calls a function: one invocation at a time, as Lambda would.

An invocation runs the real handler with a Lambda context, keeps what it printed (Powertools'
EMF metrics) and logged, and records how it ended: its response (and the records its partial
batch response named), an error, or a container killed mid-call. ``crash_at`` arms such kills:
a botocore hook on the functions' session raises ``InvocationKilled`` right after the service
handled the chosen call, before the function reads the answer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from waconnect.entrypoints.lambda_handlers.runtime import LOG_SINK
from waconnect.sandbox.lambda_events import (
    Invocation,
    InvocationKilled,
    LambdaContext,
    Lines,
    Recorder,
)

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Invoker:
    """Invokes handlers one at a time, keeps their record, and kills them on request.

    ``lock`` is held for a whole invocation (the harness redeploys under it); ``killed`` runs
    after a killed invocation, so that the next one gets a fresh container.
    """

    def __init__(self, recorder: Recorder, *, killed: Callable[[], None]) -> None:
        self.lock = threading.RLock()
        self._recorder = recorder
        self._killed = killed
        self._invoking = 0
        # operation -> armed crashes, each [calls still to let through, kills left]
        self._crashes: dict[str, list[list[int]]] = {}

    @property
    def busy_now(self) -> bool:
        """An invocation is running, or records are in an event source's hands."""
        with self.lock:
            return self._invoking > 0

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """Records are in a thread's hands (received, being handled): the harness is not idle."""
        with self.lock:
            self._invoking += 1
        try:
            yield
        finally:
            with self.lock:
                self._invoking -= 1

    def invoke(
        self,
        function: str,
        handler: Handler,
        event: dict[str, Any],
        *,
        records: int,
        batch: bool = False,
    ) -> dict[str, Any] | None:
        """Run a handler; its response, or None when it raised or its container died.

        ``batch``: an SQS batch, which a completed invocation that raised hands back whole (as
        Powertools raises when every record failed): the response then names every record.
        """
        invocations = self._recorder.invocations
        with self.lock:
            self._invoking += 1
            try:
                printed = io.StringIO()
                try:
                    # Powertools prints EMF metrics on stdout, as Lambda expects: keep them.
                    with (
                        contextlib.redirect_stdout(printed),
                        LOG_SINK.capture(Lines(self._recorder.log_lines)),
                    ):
                        response = handler(event, LambdaContext(function_name=function))
                except InvocationKilled:
                    invocations.append(
                        Invocation(function=function, records=records, error="killed")
                    )
                    self._killed()
                    return None
                except Exception as exc:  # noqa: BLE001 (any error is a failed invocation)
                    logger.warning("%s raised %s", function, exc)
                    invocations.append(
                        Invocation(function=function, records=records, error=repr(exc))
                    )
                    if not batch:
                        return None
                    ids = [record["messageId"] for record in event["Records"]]
                    return {"batchItemFailures": [{"itemIdentifier": i} for i in ids]}
                finally:
                    self._recorder.keep_metrics(printed.getvalue())
                failed = tuple(
                    str(item["itemIdentifier"])
                    for item in (response or {}).get("batchItemFailures", ())
                )
                invocations.append(Invocation(function=function, records=records, failed=failed))
                return response or {}
            finally:
                self._invoking -= 1

    def crash_at(self, operation: str, count: int = 1, *, nth: int = 1) -> None:
        """Kill ``count`` invocations right after the service handled ``operation``, from the
        ``nth`` call of it on (the calls before it go through)."""
        if nth < 1 or count < 1:
            raise ValueError("nth and count count from 1")
        with self.lock:
            self._crashes.setdefault(operation, []).append([nth - 1, count])

    def maybe_crash(self, model: Any = None, **_: Any) -> None:
        """The botocore ``after-call`` hook: kill the invocation when a crash is armed."""
        operation = getattr(model, "name", "")
        with self.lock:
            armed = self._crashes.get(operation)
            if not armed or not self._invoking:
                return
            skip, remaining = armed[0]
            if skip:
                armed[0][0] = skip - 1
                return
            if remaining <= 1:
                armed.pop(0)
            else:
                armed[0][1] = remaining - 1
        raise InvocationKilled(f"killed after {operation}")
