"""The bridge's entry for the end of a transcription job, from its event or from a check:
retries and outcomes, as for messages.

A call that certainly did not take effect is tried again with the bridge's short waits; when
that is not enough the event is ``deferred`` (someone keeps it: SQS, or the bridge's retry
store, until it is as old as the retry policy allows) or else ``failed``. An error outside the
delivery tree is one ``failed`` outcome, never an exception out of the bridge.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from waconnect.entrypoints.retry_policy import RetryPolicy, retrying
from waconnect.errors import MalformedPayload, TransientError
from waconnect.log_setup import log_ids
from waconnect.services.outcome import Outcome
from waconnect.services.transcript_events import TranscriptEvents
from waconnect.wire.transcribe_event import TranscriptionJobChange, parse_transcription_event

logger = logging.getLogger(__name__)

# Seconds until an item that happened at ``since`` is tried again (None: report it now), for a
# transport that keeps it (``defer``) or not: the bridge's own policy.
Later = Callable[[float, bool], float | None]


class TranscriptEntry:
    """The ends of transcription jobs, handed in as events or checks (``events``: None where no
    engine that finishes later is set up)."""

    def __init__(
        self,
        events: TranscriptEvents | None,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        later: Later,
        now: Callable[[], float],
    ) -> None:
        self._events = events
        self._retry = retry
        self._sleep = sleep
        self._later = later
        self._now = now

    def event(self, doc: Mapping[str, Any] | str | bytes, *, defer: bool) -> Outcome:
        try:
            change = parse_transcription_event(doc)
        except MalformedPayload as exc:
            logger.warning("rejected %s payload at %s: %s", exc.source, exc.path, exc.reason)
            return Outcome(kind="rejected", reason=str(exc))
        if self._events is None:
            return not_awaited(change.job)
        handle = functools.partial(self._events.handle_job_change, change)
        return self._settle(change.job, handle, changed_at(change, self._now), defer)

    def check(self, job: str, *, defer: bool) -> Outcome:
        if self._events is None:
            return not_awaited(job)
        handle = functools.partial(self._events.handle_job_check, job)
        return self._settle(job, handle, self._now(), defer)

    def _settle(
        self, job: str, handle: Callable[[], Outcome], since: float, defer: bool
    ) -> Outcome:
        return settle_transcript(
            job,
            handle,
            since=since,
            waits=self._retry.waits(),
            sleep=self._sleep,
            later=lambda at: self._later(at, defer),
        )


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
            try:
                return retrying(handle, waits=waits, sleep=sleep)
            except TransientError as exc:
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
