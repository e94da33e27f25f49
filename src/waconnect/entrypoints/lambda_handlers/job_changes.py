"""The ``transcribed`` function: Transcribe job state changes, EventBridge → SQS → here.

A standard queue feeds it (EventBridge targets a queue; its rule passes only the bridge's jobs
that completed or failed); each record's body is the EventBridge event as it was, or a check of
a job that ``inbound`` posted, delayed, once it started it (``wire.transcript_check``), in case
the job's event is lost. Powertools' ``BatchProcessor`` reports the records that are not done,
and only those come back.

| outcome                                 | the record                                        |
| delivered                               | deleted; a ``transcribed`` metric is emitted      |
| skipped, ignored, duplicate             | deleted (a failed job, no words, the chat ended)  |
| rejected (not a job state change)       | sent to the dead-letter queue with the reason     |
| deferred (still failing transiently)    | hidden for the schedule's next delay, tried again;|
|                                         | past the maximum age, dead-lettered               |
| failed with nobody told (unexpected)    | tried again; at ``POISON_RECEIVES`` dead-lettered |

A check is settled as the job's event would be once the job ended, so whichever of the two
comes second is a ``duplicate``. While the job runs the check is hidden until its next look
(after as long as the job has run, at most an hour), until it is as old as the retry schedule's
maximum age; then it is given up (logged, ``skipped``: no dead letter for a job that never ends).

Redelivery is harmless: the transcript's parts carry the voice note's ClientTokens and are
recorded done, the echo to the customer is claimed once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from waconnect.entrypoints.lambda_handlers.consuming import (
    RecordConsumer,
    TryLater,
    dead_letter_attributes,
)
from waconnect.entrypoints.lambda_handlers.schedule import POISON_RECEIVES
from waconnect.errors import MalformedPayload, TransientError
from waconnect.services.outcome import Outcome
from waconnect.wire.transcript_check import job_to_check

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


FUNCTION = "transcribed"
KIND = "voice"


class JobChangeConsumer(RecordConsumer):
    """Handles the records of one invocation; ``counts`` holds (metric, kind) tallies.

    As the FIFO consumer, but each body is an EventBridge event (not a queued item), and the
    dead-letter queue is a standard one (no message group, no deduplication id)."""

    def __call__(self, record: SQSRecord) -> None:
        logger = self._runtime.logger
        receives = int(record.attributes.approximate_receive_count or 1)
        logger.append_keys(sqs_message_id=record.message_id, receive_count=receives)
        try:
            self.counts[(self._settle_job(record, receives), KIND)] += 1
        finally:
            logger.remove_keys(["sqs_message_id", "receive_count"])

    def _settle_job(self, record: SQSRecord, receives: int) -> str:
        try:
            job = job_to_check(record.body)
        except MalformedPayload as exc:
            self._runtime.settled(Outcome(kind="rejected", reason=str(exc)))
            self._dead_letter(record, str(exc))
            return "dead-lettered"
        outcome = self._job_change(record.body, job, defer=True)
        if outcome.kind == "rejected":
            self._runtime.settled(outcome)
            self._dead_letter(record, outcome.reason)
            return "dead-lettered"
        if not outcome.redeliverable:
            self._runtime.settled(outcome)
            return FUNCTION if outcome.kind == "delivered" else outcome.kind
        if outcome.kind == "deferred":
            age = max(0.0, time.time() - int(record.attributes.sent_timestamp) / 1000)
            delay = self._runtime.schedule.next_delay(
                receive_count=receives, age_seconds=age, at_least=outcome.retry_after
            )
            if delay is not None:
                self._hide(record, delay)
                self.counts[("deferred", KIND)] += 1
                raise TryLater(outcome.reason)
            if job is not None:
                reason = f"given up after {int(age)}s: {outcome.reason}"
                self._runtime.logger.warning(
                    "transcription job %s not checked again: %s", job, reason
                )
                self._runtime.settled(Outcome(kind="skipped", reason=reason))
                return "skipped"
            final = self._job_change(record.body, job, defer=False)
            self._runtime.settled(final)
            if final.kind == "delivered":
                return FUNCTION
            self._dead_letter(record, f"still failing after {int(age)}s: {outcome.reason}")
            return "dead-lettered"
        if receives >= POISON_RECEIVES:
            self._runtime.settled(outcome)
            self._dead_letter(record, f"failed {receives} times: {outcome.reason}")
            return "dead-lettered"
        self._hide(record, self._runtime.schedule.delay(receives))
        self.counts[("failed", KIND)] += 1
        raise TryLater(outcome.reason)

    def _job_change(self, body: str, job: str | None, *, defer: bool) -> Outcome:
        """The outcome of an event, or of the check of ``job``."""
        if job is not None:
            return self._runtime.bridge.check_transcription_job(job, defer=defer)
        outcomes = self._runtime.bridge.handle_transcription_event(body, defer=defer)
        return outcomes[0] if outcomes else Outcome(kind="skipped")

    def _dead_letter(self, record: SQSRecord, reason: str, *, told: bool = False) -> None:
        runtime = self._runtime
        source = runtime.queue_url(record.event_source_arn)
        target = runtime.dead_letter_target(source)
        if target is None:
            # No dead-letter queue configured: keep failing, so nothing is silently deleted.
            raise TransientError(f"no dead-letter queue for {source}; kept: {reason}")
        runtime.sqs.send_message(
            QueueUrl=target.queue_url,
            MessageBody=record.body,
            MessageAttributes=dead_letter_attributes(record, source, reason, told=told),
        )
        runtime.logger.error("dead-lettered", extra={"reason": reason})
