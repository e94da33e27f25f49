"""The bridge's entry for the end of a transcription job: retries and outcomes, as for messages.

A call that certainly did not take effect is tried again with the bridge's short waits; when
that is not enough the event is ``deferred`` (someone keeps it: SQS, or the bridge's retry
store, until it is as old as the retry policy allows) or else ``failed``. An error outside the
delivery tree is one ``failed`` outcome, never an exception out of the bridge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from waconnect.errors import TransientError
from waconnect.log_setup import log_ids
from waconnect.services.outcome import Outcome
from waconnect.services.transcript_events import TranscriptEvents
from waconnect.wire.transcribe_event import TranscriptionJobChange

logger = logging.getLogger(__name__)


def settle_job_change(
    events: TranscriptEvents,
    change: TranscriptionJobChange,
    *,
    waits: list[float],
    sleep: Callable[[float], None],
    later: Callable[[float], float | None],
    now: Callable[[], float],
) -> Outcome:
    """``events.handle_job_change`` with retries. ``later(since)``: seconds until an item that
    happened at ``since`` is tried again, None when it must be reported now."""
    with log_ids(transcription_job=change.job):
        try:
            while True:
                try:
                    return events.handle_job_change(change)
                except TransientError as exc:
                    if waits:
                        sleep(waits.pop(0))
                        continue
                    wait = later(_changed_at(change, now))
                    if wait is None:
                        logger.warning("giving up on transcription job %s: %s", change.job, exc)
                        return Outcome(kind="failed", reason=str(exc))
                    logger.info("transcription job %s deferred %.0f s", change.job, wait)
                    return Outcome(kind="deferred", reason=str(exc), retry_after=wait)
        except Exception as exc:
            logger.exception("transcription job %s failed unexpectedly", change.job)
            return Outcome(kind="failed", reason=f"unexpected {type(exc).__name__}")


def _changed_at(change: TranscriptionJobChange, now: Callable[[], float]) -> float:
    try:
        return datetime.fromisoformat(change.time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now()
