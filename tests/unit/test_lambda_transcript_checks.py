"""The Lambda shape's fallback for a lost Transcribe event: ``inbound`` posts each started job's
check to the queue of ``transcribed``, delayed; ``transcribed`` settles it as the event would be,
hides it while the job runs, and gives it up (never dead-letters it) once it is too old."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from tests.unit.test_lambda_transcribed import (
    QUEUE_URL,
    expect_dead_letter,
    record,
    runtime_for,
)
from tests.unit.test_transcript_events import World, job_event

from waconnect.adapters.aws.sqs_follow_ups import SqsTranscriptFollowUps
from waconnect.entrypoints.lambda_handlers import functions
from waconnect.entrypoints.lambda_handlers.schedule import RetrySchedule
from waconnect.ports import TRANSCRIPT_CHECK_SECONDS, Transcript
from waconnect.services.outcome import Outcome
from waconnect.services.transcripts import job_name
from waconnect.wire.transcript_check import check_body, job_to_check

QUEUE_NAME = {"QueueName": "waconnect-transcribed", "QueueOwnerAWSAccountId": "123456789012"}


@pytest.fixture
def sqs() -> Any:
    return boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def posted(sqs: Any) -> World:
    """A world whose ``inbound`` posts its checks through a stubbed SQS client."""
    return World(follow_ups=SqsTranscriptFollowUps(sqs, QUEUE_URL, delay_seconds=300))


def checked(world: World, sqs: Any, body: str, seen: list[Outcome]) -> dict[str, Any]:
    return functions.transcribed(
        runtime_for(world, sqs, seen), {"Records": [record("c-1", body)]}, None
    )


def test_inbound_posts_the_check_of_each_job_it_started_delayed(sqs: Any, posted: World) -> None:
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message",
            {"MessageId": "check-1"},
            {"QueueUrl": QUEUE_URL, "MessageBody": ANY, "DelaySeconds": 300},
        )
        message = posted.voice()
        stub.assert_no_pending_responses()
    assert job_name(message.wamid) in posted.engine.started
    # Nothing is due in the state: the queue brings the check.
    assert posted.jobs.checks == {}


def test_a_check_that_cannot_be_posted_does_not_fail_the_voice_note(
    sqs: Any, posted: World
) -> None:
    with Stubber(sqs) as stub:
        stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue", "gone")
        posted.voice()  # asserts the message was delivered
    assert posted.chat() == ["attachment"]


def test_a_check_finds_a_job_whose_event_was_lost_and_the_late_event_adds_nothing(
    sqs: Any,
) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="lost and found")
    seen: list[Outcome] = []

    assert checked(world, sqs, check_body(job), seen) == {"batchItemFailures": []}
    late = functions.transcribed(
        runtime_for(world, sqs, seen), {"Records": [record("e-1", job_event(job))]}, None
    )

    assert late == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["delivered", "duplicate"]
    assert world.chat() == ["attachment", "🔊 lost and found"]
    assert len(world.echoes()) == 1


def test_a_check_after_the_event_reads_nothing_from_the_engine(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="on time")
    seen: list[Outcome] = []
    functions.transcribed(
        runtime_for(world, sqs, seen), {"Records": [record("e-1", job_event(job))]}, None
    )
    world.engine.failing = 1  # a read of the job now would fail: none is made

    assert checked(world, sqs, check_body(job), seen) == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["delivered", "duplicate"]


def test_a_check_of_a_running_job_is_hidden_until_its_next_look(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    with Stubber(sqs) as stub:
        stub.add_response("get_queue_url", {"QueueUrl": QUEUE_URL}, QUEUE_NAME)
        stub.add_response(
            "change_message_visibility",
            {},
            {
                "QueueUrl": QUEUE_URL,
                "ReceiptHandle": "handle-c-1",
                # As long as the job has run (here: not at all), at least the first delay.
                "VisibilityTimeout": TRANSCRIPT_CHECK_SECONDS,
            },
        )
        # With a record that is done beside it: a batch whose every record failed raises.
        event = {
            "Records": [
                record("c-1", check_body(job)),
                record("c-2", check_body("waconnect-nobodys")),
            ]
        }
        answer = functions.transcribed(runtime_for(world, sqs, seen := []), event, None)
        stub.assert_no_pending_responses()
    assert answer == {"batchItemFailures": [{"itemIdentifier": "c-1"}]}
    assert [o.kind for o in seen] == ["skipped"]  # the other job: nobody waits for it
    assert world.chat() == ["attachment"]


def test_a_failed_job_found_by_a_check_sends_nothing(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(failure="The media format does not match")
    seen: list[Outcome] = []

    assert checked(world, sqs, check_body(job), seen) == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["skipped"]
    assert world.chat() == ["attachment"]
    assert world.echoes() == []


def test_a_check_too_old_to_wait_longer_is_given_up_not_dead_lettered(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    runtime = runtime_for(world, sqs, seen := [])
    runtime.schedule = RetrySchedule(max_age_seconds=60)  # the record was sent long ago
    with Stubber(sqs) as stub:  # no SQS call at all: nothing is hidden or dead-lettered
        answer = functions.transcribed(runtime, {"Records": [record("c-1", check_body(job))]}, None)
        stub.assert_no_pending_responses()
    assert answer == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["skipped"]
    assert "given up" in seen[0].reason


def test_a_check_that_cannot_be_read_is_dead_lettered_with_the_field_named(sqs: Any) -> None:
    world = World()
    body = json.dumps({"v": 9, "item": "transcription-check", "id": "waconnect-1"})
    with Stubber(sqs) as stub:
        stub.add_response("get_queue_url", {"QueueUrl": QUEUE_URL}, QUEUE_NAME)
        expect_dead_letter(stub, body)
        answer = checked(world, sqs, body, seen := [])
        stub.assert_no_pending_responses()
    assert answer == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["rejected"]
    assert "expected check version 1" in seen[0].reason


def test_only_a_check_body_names_a_job_to_check() -> None:
    assert job_to_check(check_body("waconnect-abc")) == "waconnect-abc"
    assert job_to_check(json.dumps(job_event("waconnect-abc"))) is None
    assert job_to_check("not json") is None


def test_a_check_of_a_job_transcribe_does_not_know_is_done_not_retried(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    del world.engine.started[job]
    world.engine.unknown_is_an_error = True
    seen: list[Outcome] = []

    assert checked(world, sqs, check_body(job), seen) == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["skipped"]
    assert "cannot be checked" in seen[0].reason
