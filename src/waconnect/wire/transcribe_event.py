"""Amazon Transcribe's job state change, as EventBridge delivers it (to a rule's target).

    {"version": "0", "id": "...", "detail-type": "Transcribe Job State Change",
     "source": "aws.transcribe", "account": "...", "time": "...", "region": "...",
     "resources": [], "detail": {"TranscriptionJobName": "...",
                                 "TranscriptionJobStatus": "COMPLETED" | "FAILED"}}

EventBridge → SQS → Lambda hands the same JSON as each record's body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waconnect.wire._reader import Node, load

SOURCE = "aws.transcribe"
DETAIL_TYPE = "Transcribe Job State Change"
# The states a job ends in; others (QUEUED, IN_PROGRESS) change nothing for the bridge.
FINAL_STATES = frozenset({"COMPLETED", "FAILED"})


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptionJobChange:
    """A transcription job reached ``status``; ``event_id`` is EventBridge's id of the event."""

    job: str
    status: str
    event_id: str = ""
    # When the job changed state, as EventBridge says (ISO 8601); "" when not given.
    time: str = ""

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES


def is_transcription_event(doc: Mapping[str, Any]) -> bool:
    return doc.get("source") == SOURCE and doc.get("detail-type") == DETAIL_TYPE


def parse_transcription_event(doc: Mapping[str, Any] | str | bytes) -> TranscriptionJobChange:
    """The job and its state; ``MalformedPayload`` naming the field for anything else."""
    root = load(doc, "transcribe")
    return parse_transcription_node(root)


def parse_transcription_node(root: Node) -> TranscriptionJobChange:
    members = root.mapping()
    if members.get("source") != SOURCE:
        root.child("source").fail(f"expected {SOURCE!r}")
    if members.get("detail-type") != DETAIL_TYPE:
        root.child("detail-type").fail(f"expected {DETAIL_TYPE!r}")
    detail = root.child("detail")
    job = detail.req_str("TranscriptionJobName")
    if not job.strip():
        detail.child("TranscriptionJobName").fail("empty job name")
    return TranscriptionJobChange(
        job=job,
        status=detail.req_str("TranscriptionJobStatus"),
        event_id=root.opt_str("id"),
        time=root.opt_str("time"),
    )
