"""``ports.TranscriptFollowUps`` over SQS: a started job's check, posted to come back later.

The Lambda shape has no process that wakes up to look at old jobs, so ``inbound`` posts each
started job's check (``wire.transcript_check``) to the queue of ``transcribed``, delayed by
``DelaySeconds`` (SQS allows at most 900), where it comes back like the job's event would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from waconnect.adapters.aws.errors import translate_errors
from waconnect.wire.transcript_check import check_body

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

SQS_MAX_DELAY_SECONDS = 900


class SqsTranscriptFollowUps:
    def __init__(self, sqs: SQSClient, queue_url: str, *, delay_seconds: int) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._delay = min(max(delay_seconds, 0), SQS_MAX_DELAY_SECONDS)

    def follow_up(self, job: str) -> None:
        with translate_errors("SendMessage", service="sqs"):
            self._sqs.send_message(
                QueueUrl=self._queue_url, MessageBody=check_body(job), DelaySeconds=self._delay
            )
