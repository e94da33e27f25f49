"""The ``transcribed`` function on its standard queue: partial batch responses and its metric."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.stub import ANY, Stubber
from tests.unit.test_transcript_events import World, job_event

from waconnect.entrypoints import lambda_handlers
from waconnect.entrypoints.lambda_handlers import functions
from waconnect.entrypoints.lambda_handlers.runtime import Runtime, install
from waconnect.entrypoints.lambda_handlers.schedule import RetrySchedule
from waconnect.ports import Transcript
from waconnect.services.outcome import Outcome
from waconnect.services.transcripts import job_name
from waconnect.settings import Settings

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:waconnect-transcribed"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/waconnect-transcribed"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:waconnect-transcribed-dlq"
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/waconnect-transcribed-dlq"


def record(message_id: str, body: Any, *, receives: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": "1764000000000",
            "SenderId": "AIDAEVENTBRIDGE",
            "ApproximateFirstReceiveTimestamp": "1764000000001",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": QUEUE_ARN,
        "awsRegion": "us-east-1",
    }


def runtime_for(world: World, sqs: Any, seen: list[Outcome]) -> Runtime:
    return Runtime(
        settings=Settings.for_sandbox(
            endpoint_url="http://127.0.0.1:1", s3_endpoint_url="http://127.0.0.1:2", state_path="x"
        ),
        bridge=world.bridge,
        sqs=sqs,
        logger=Logger(service="transcribed-test", stream=io.StringIO()),
        # Wide enough for the fixed SentTimestamp above, whatever today's date.
        schedule=RetrySchedule(max_age_seconds=10 * 365 * 24 * 3600),
        observe=seen.append,
    )


def expect_dead_letter(stub: Stubber, body: str) -> None:
    """The calls that send ``body`` to the queue's dead-letter queue (its URL already known)."""
    stub.add_response(
        "get_queue_attributes",
        {
            "Attributes": {
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": DLQ_ARN, "maxReceiveCount": 5})
            }
        },
        {"QueueUrl": QUEUE_URL, "AttributeNames": ["RedrivePolicy"]},
    )
    stub.add_response(
        "get_queue_url",
        {"QueueUrl": DLQ_URL},
        {"QueueName": "waconnect-transcribed-dlq", "QueueOwnerAWSAccountId": "123456789012"},
    )
    stub.add_response(
        "send_message",
        {"MessageId": "dead-1"},
        {"QueueUrl": DLQ_URL, "MessageBody": body, "MessageAttributes": ANY},
    )


@pytest.fixture
def sqs() -> Any:
    return boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_a_finished_job_reaches_the_chat_and_counts_as_transcribed(
    sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="where is my order")
    seen: list[Outcome] = []

    answer = functions.transcribed(
        runtime_for(world, sqs, seen), {"Records": [record("m-1", job_event(job))]}, None
    )

    assert answer == {"batchItemFailures": []}
    assert world.chat() == ["attachment", "🔊 where is my order"]
    assert [o.kind for o in seen] == ["delivered"]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [(m["function"], m["kind"], m.get("transcribed")) for m in metrics] == [
        ("transcribed", "voice", [1.0])
    ]


def test_an_early_event_is_hidden_and_reported_while_an_unreadable_body_is_dead_lettered(
    sqs: Any,
) -> None:
    world = World()
    job = job_name(world.voice().wamid)  # started, not finished: the event came early
    event = {
        "Records": [
            record("m-early", job_event(job)),
            record("m-bad", "not an event at all"),
        ]
    }
    with Stubber(sqs) as stub:
        stub.add_response(
            "get_queue_url",
            {"QueueUrl": QUEUE_URL},
            {"QueueName": "waconnect-transcribed", "QueueOwnerAWSAccountId": "123456789012"},
        )
        stub.add_response(
            "change_message_visibility",
            {},
            {"QueueUrl": QUEUE_URL, "ReceiptHandle": "handle-m-early", "VisibilityTimeout": 10},
        )
        expect_dead_letter(stub, "not an event at all")
        answer = functions.transcribed(runtime_for(world, sqs, []), event, None)
        stub.assert_no_pending_responses()

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-early"}]}
    assert world.chat() == ["attachment"]


def test_a_job_of_a_chat_that_ended_is_done_with_nothing_sent(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    [chat] = world.connect.chats.values()
    world.connect.end_chat(chat.contact_id)
    world.engine.finished[job] = Transcript(text="late words")
    seen: list[Outcome] = []

    answer = functions.transcribed(
        runtime_for(world, sqs, seen), {"Records": [record("m-1", job_event(job))]}, None
    )

    assert answer == {"batchItemFailures": []}
    assert [o.kind for o in seen] == ["ignored"]
    assert world.chat() == ["attachment"]


def test_the_packages_entry_is_the_handler_once_the_functions_are_loaded(sqs: Any) -> None:
    world = World()
    job = job_name(world.voice().wamid)
    world.engine.finished[job] = Transcript(text="through the entry")
    previous = install(runtime_for(world, sqs, []))
    try:
        for message_id in ("m-1", "m-2"):  # a second call, after every module was imported
            answer = lambda_handlers.transcribed(
                {"Records": [record(message_id, job_event(job))]}, None
            )
            assert answer == {"batchItemFailures": []}
    finally:
        install(previous)
    assert world.chat() == ["attachment", "🔊 through the entry"]
