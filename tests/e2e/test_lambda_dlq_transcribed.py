"""``waconnect dlq`` on the standard queue of Transcribe's job state changes (``transcribed``),
through the local Lambda harness: moto's SQS, the real handler, the real command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_lambda_harness import Harnessed
from waconnect.entrypoints.cli import main
from waconnect.entrypoints.dlq import list_dead_letters
from waconnect.sandbox import defaults
from waconnect.sandbox.scenario_runner import ScenarioRunner

pytestmark = pytest.mark.slow

JOB = "waconnect-0123456789abcdef"
# A job state change with no status: the function cannot read it, now or later.
UNREADABLE = {
    "version": "0",
    "id": "5d5a4b1c-0000-4000-8000-000000000001",
    "source": "aws.transcribe",
    "detail-type": "Transcribe Job State Change",
    "region": defaults.REGION,
    "detail": {"TranscriptionJobName": JOB},
}


@pytest.fixture
def harnessed() -> Iterator[Harnessed]:
    lines: list[dict[str, Any]] = []
    with ScenarioRunner(seed=5, emit=lines.append, through_lambda=True) as runner:
        world = Harnessed(runner)
        world.lines = lines
        yield world


def test_a_dead_lettered_job_change_is_listed_and_redriven_to_its_standard_queue(
    harnessed: Harnessed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = harnessed.harness
    resources = harness.resources
    assert resources is not None
    # As the stack's EventBridge rule puts a job state change: the event itself is the body.
    harness.sqs.send_message(QueueUrl=resources.transcribed.url, MessageBody=json.dumps(UNREADABLE))
    assert harnessed.runner.cloud.settle(timeout=60)
    assert harness.metric_total("dead-lettered", function="transcribed") == 1
    assert not resources.transcribed.url.endswith(".fifo")

    monkeypatch.setenv("WACONNECT_REGION", defaults.REGION)
    monkeypatch.setenv("WACONNECT_SQS_ENDPOINT_URL", harness.moto_endpoint_url)
    monkeypatch.setenv("WACONNECT_INBOUND_QUEUE_URL", resources.inbound.url)
    monkeypatch.setenv("WACONNECT_OUTBOUND_QUEUE_URL", resources.outbound.url)
    monkeypatch.setenv("WACONNECT_TRANSCRIBED_QUEUE_URL", resources.transcribed.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    capsys.readouterr()

    # "all" covers the three queues; only the standard one has a dead letter.
    assert main(["dlq", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 1
    assert listed[0]["source_queue"] == resources.transcribed.url
    assert listed[0]["item"] == f"job {JOB}"
    assert listed[0]["group_id"] == ""
    assert listed[0]["reason"]
    assert not listed[0]["reason"].startswith("no reason recorded")

    assert main(["dlq", "list", "transcribed"]) == 0
    out = capsys.readouterr().out
    assert f"job {JOB}" in out
    assert "group" not in out
    assert "1 dead-lettered in" in out

    # Moved back, the record reaches the function again: still unreadable, it is dead-lettered
    # again, with its reason, and nothing else happened.
    assert main(["dlq", "redrive", "transcribed"]) == 0
    assert "1 moved back to" in capsys.readouterr().out
    assert harnessed.runner.cloud.settle(timeout=60)
    assert harness.metric_total("dead-lettered", function="transcribed") == 2
    (again,) = harness.dead_letters("transcribed")
    assert json.loads(again["Body"]) == UNREADABLE
    assert "MessageGroupId" not in again.get("Attributes", {})
    assert harness.dead_letters("inbound") == []


def test_a_change_eventbridge_could_not_deliver_is_listed_with_eventbridge_s_error(
    harnessed: Harnessed,
) -> None:
    harness = harnessed.harness
    resources = harness.resources
    assert resources is not None
    # The rule's dead-letter queue is the queue's own; EventBridge names its error this way.
    harness.sqs.send_message(
        QueueUrl=resources.transcribed.dead_letter_url,
        MessageBody=json.dumps(UNREADABLE),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "SQS.AccessDenied"},
            "ERROR_MESSAGE": {"DataType": "String", "StringValue": "not authorized"},
        },
    )

    (listed,) = list_dead_letters(harness.sqs, resources.transcribed.url)

    assert listed.reason == (
        "EventBridge could not put it on the queue: SQS.AccessDenied not authorized"
    )
    assert listed.item == f"job {JOB}"
    assert listed.group_id == ""


def test_a_job_state_change_published_bare_goes_to_the_transcribed_queue_as_the_rule_puts_it(
    harnessed: Harnessed,
) -> None:
    harness = harnessed.harness

    harness.publish(UNREADABLE)

    assert harnessed.runner.cloud.settle(timeout=60)
    # The transcribed function read it (and dead-lettered it, unreadable); ingest never saw it.
    assert harness.metric_total("dead-lettered", function="transcribed") == 1
    (dead,) = harness.dead_letters("transcribed")
    assert json.loads(dead["Body"]) == UNREADABLE
    assert harness.metric_total("rejected", function="ingest") == 0
