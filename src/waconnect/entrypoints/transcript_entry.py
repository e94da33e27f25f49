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
from waconnect.wire.transcribe_event import TranscriptionJobChange

logger = logging.getLogger(__name__)


def not_awaited(job: str) -> Outcome:
    """The outcome of a job's end (or check) where no engine that finishes later is set up."""
    reason = "transcription job ends are not awaited here (WACONNECT_TRANSCRIPTION)"
    logger.warning("job %s: %s", job, reason)
    return Outcome(kind="ignored", reason=reason)


def settle_transcript(
    job: str,
    handle: Callable[[], Outcome],
    *,
    since: float,
    waits: list[float],
    sleep: Callable[[float], None],
    later: Callable[[float], float | None],
) -> Outcome:
    """``handle()`` (the end of ``job``, from its event or a check) with retries. ``since``: when
    the item happened; ``later(since)``: seconds until it is tried again, None when it must be
    reported now."""
    with log_ids(transcription_job=job):
        try:
            while True:
                try:
                    return handle()
                except TransientError as exc:
                    if waits:
                        sleep(waits.pop(0))
                        continue
                    wait = later(since)
                    if wait is None:
                        logger.warning("giving up on transcription job %s: %s", job, exc)
                        return Outcome(kind="failed", reason=str(exc))
                    logger.info("transcription job %s deferred %.0f s", job, wait)
                    return Outcome(kind="deferred", reason=str(exc), retry_after=wait)
        except Exception as exc:
            logger.exception("transcription job %s failed unexpectedly", job)
            return Outcome(kind="failed", reason=f"unexpected {type(exc).__name__}")


def changed_at(change: TranscriptionJobChange, now: Callable[[], float]) -> float:
    """When the job changed state, as EventBridge says; now when it does not say."""
    try:
        return datetime.fromisoformat(change.time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now()
