"""Transcription jobs whose end was not heard, looked at when their check is due.

EventBridge delivers at least once, but a rule can be wrong, a queue's dead-letter queue can
take an event, an event can come before its job was remembered: then nothing announces the
job's end. In the server and sandbox shapes the bridge's ``run_due`` also hands each job whose
check is due (``TranscriptChecks``: ``TRANSCRIPT_CHECK_SECONDS`` after it started, then after
as long again, at most ``TRANSCRIPT_CHECK_MAX_SECONDS`` apart) to
``TranscriptEvents.handle_job_check``:

| the job                                  | what happens                                        |
| ended (completed or failed)              | handled as its event would be; no longer checked    |
| still running                            | checked again after as long as it has run           |
| its engine failing transiently           | checked again after the first delay                 |
| refused by its engine (never started)    | given up, with a warning                            |
| older than the retention                 | forgotten, with a warning: its transcript is lost   |

The Lambda shape checks through its queue instead (``entrypoints/lambda_handlers/job_changes``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from waconnect.errors import DeliveryError
from waconnect.log_setup import log_ids
from waconnect.ports import LEDGER_TTL_SECONDS, TRANSCRIPT_CHECK_SECONDS
from waconnect.services.outcome import Outcome

if TYPE_CHECKING:
    from waconnect.ports import PendingTranscript, TranscriptChecks
    from waconnect.services.transcript_events import TranscriptEvents

logger = logging.getLogger(__name__)

FORGOTTEN = "the end of the transcription job was never heard: forgotten"


class OverdueTranscripts:
    def __init__(
        self,
        events: TranscriptEvents,
        checks: TranscriptChecks,
        *,
        check_seconds: float = TRANSCRIPT_CHECK_SECONDS,
        retention_seconds: float = LEDGER_TTL_SECONDS,
    ) -> None:
        self._events = events
        self._checks = checks
        self._check_seconds = check_seconds
        self._retention = retention_seconds

    def run_due(self, now: float) -> list[Outcome]:
        """Check every job due at ``now``; the outcome of each, in order. A store that fails
        leaves the jobs as they were: each comes back once its hold has passed."""
        try:
            due = self._checks.due(now)
        except DeliveryError as exc:
            logger.warning("transcription jobs not checked: %s", exc)
            return []
        outcomes = []
        for pending in due:
            with log_ids(transcription_job=pending.job):
                try:
                    outcomes.append(self._check(pending, now))
                except DeliveryError as exc:
                    logger.warning("transcription job %s not rescheduled: %s", pending.job, exc)
                    outcomes.append(Outcome(kind="deferred", reason=str(exc)))
        return outcomes

    def _check(self, pending: PendingTranscript, now: float) -> Outcome:
        if pending.started_at < now - self._retention:
            logger.warning("transcription job %s: %s", pending.job, FORGOTTEN)
            self._checks.stop_checking(pending.job)
            return Outcome(kind="skipped", reason=FORGOTTEN, wamid=pending.wamid)
        try:
            outcome = self._events.handle_job_check(pending.job)
        except DeliveryError as exc:
            logger.info("transcription job %s not checked: %s", pending.job, exc)
            self._checks.check_later(pending.job, now + self._check_seconds)
            return Outcome(kind="deferred", reason=str(exc), wamid=pending.wamid)
        except Exception as exc:
            logger.exception("checking transcription job %s failed unexpectedly", pending.job)
            self._checks.check_later(pending.job, now + self._check_seconds)
            return Outcome(kind="failed", reason=f"unexpected {type(exc).__name__}")
        if outcome.kind == "deferred":
            logger.info("transcription job %s still running", pending.job)
            self._checks.check_later(pending.job, now + outcome.retry_after)
        elif outcome.kind != "duplicate":
            logger.info("transcription job %s: its end was found by a check", pending.job)
        return outcome
