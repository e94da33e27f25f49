"""A check of a transcription job, as the Lambda shape queues it beside EventBridge's events.

``inbound`` posts one, delayed, once it started a job, in case the job's end is never announced;
``transcribed`` reads it from the same queue as the job state changes:

    {"v": 1, "item": "transcription-check", "id": "waconnect-…"}

(the shape of the FIFO queues' bodies, so ``waconnect dlq`` names it the same way).
"""

from __future__ import annotations

import json

from waconnect.errors import MalformedPayload

VERSION = 1
ITEM = "transcription-check"


def check_body(job: str) -> str:
    return json.dumps({"v": VERSION, "item": ITEM, "id": job}, separators=(",", ":"))


def job_to_check(body: str) -> str | None:
    """The job a queue body asks to check; None for any other body (an EventBridge event).
    ``MalformedPayload`` names the field of a check that cannot be read."""
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("item") != ITEM:
        return None
    if value.get("v") != VERSION:
        raise MalformedPayload("queue", "v", f"expected check version {VERSION}")
    job = value.get("id")
    if not isinstance(job, str) or not job.strip():
        raise MalformedPayload("queue", "id", "expected the name of a transcription job")
    return job
