"""The Lambda functions through the local harness: SNS → ingest → SQS FIFO (moto) → handlers.

Each test runs the real handlers over moto's SQS and DynamoDB (on the cloud's moto server) and
the emulators, with the harness playing Lambda's event sources; what reaches the agent and the
customer is read back from the emulators.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANA, BEN, REPO, eum_notification
from waconnect.entrypoints.cli import main
from waconnect.entrypoints.dlq import list_dead_letters, redrive
from waconnect.sandbox import defaults
from waconnect.sandbox.lambda_local import HarnessOptions, LocalLambda
from waconnect.sandbox.protocol import ApiError
from waconnect.sandbox.replay import replay
from waconnect.sandbox.scenario import parse_steps
from waconnect.sandbox.scenario_runner import ScenarioRunner

pytestmark = pytest.mark.slow


def test_the_example_tour_through_lambda_has_the_same_effects_as_replay() -> None:
    tour = REPO / "examples" / "tour.json"

    direct = replay(tour)
    through_lambda = replay(tour, through_lambda=True)

    assert direct.exit_code == through_lambda.exit_code == 0
    assert list(through_lambda.lines) == list(direct.lines)
    kinds = {line["kind"] for line in through_lambda.lines}
    assert {"message", "attachment", "chat.ended", "text", "document", "audio"} <= kinds


class Harnessed:
    """A scenario runner whose deliveries go through the Lambda harness."""

    def __init__(self, runner: ScenarioRunner) -> None:
        self.runner = runner
        self.lines: list[dict[str, Any]] = []

    @property
    def harness(self) -> LocalLambda:
        harness = self.runner.harness
        assert harness is not None
        return harness

    def step(self, step: dict[str, Any]) -> list[dict[str, Any]]:
        scenario = parse_steps([step], base=REPO / "examples")
        before = len(self.lines)
        self.runner.run_step(scenario.steps[0])
        return self.lines[before:]

    def agent_texts(self, customer: str) -> list[str]:
        texts = []
        cloud = self.runner.cloud
        for contact in cloud.connect_view.contacts():
            if contact.customer != customer:
                continue
            texts += [
                str(item["Content"])
                for item in cloud.transcript(contact.contact_id)
                if item.get("Type") == "MESSAGE"
                and item.get("ParticipantRole") == "CUSTOMER"
                and item.get("ContentType") == "text/plain"
            ]
        return texts


@pytest.fixture
def harnessed() -> Iterator[Harnessed]:
    lines: list[dict[str, Any]] = []
    with ScenarioRunner(seed=3, emit=lines.append, through_lambda=True) as runner:
        world = Harnessed(runner)
        world.lines = lines
        yield world


def _no_sleep(world: Harnessed) -> None:
    """The bridge's own short retries would only slow the test: SQS does the waiting here."""
    runtime = world.harness._runtime
    assert runtime is not None
    runtime.bridge._sleep = lambda _: None


def test_a_throttling_storm_delays_messages_but_delivers_each_once_and_dead_letters_none(
    harnessed: Harnessed,
) -> None:
    _no_sleep(harnessed)
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "first"})
    # More throttles than the bridge's and botocore's retries absorb in one invocation.
    harnessed.runner.cloud.faults.fail_next(
        "SendMessage", 12, ApiError("ThrottlingException", "Rate exceeded", 429)
    )
    harnessed.step(
        {
            "concurrently": [
                {"action": "customer.text", "customer": ANA, "text": "second"},
                {"action": "customer.text", "customer": BEN, "text": "hello from Ben"},
            ],
        }
    )
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "third"})

    assert harnessed.agent_texts(ANA) == ["first", "second", "third"]
    assert harnessed.agent_texts(BEN) == ["hello from Ben"]
    fired = harnessed.runner.cloud.faults.fired
    assert [operation for operation, _ in fired].count("SendMessage") == 12
    harness = harnessed.harness
    assert harness.dead_letters("inbound") == []
    assert harness.metric_total("deferred", function="inbound") >= 1
    assert harness.metric_total("delivered", function="inbound") == 4


def test_a_message_published_again_after_sqs_deduplication_is_dropped_at_ingest(
    harnessed: Harnessed,
) -> None:
    wamid = "wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQUFBQUFBQUFBQUFBQUFBQUFBQQA="
    document = eum_notification({"id": wamid, "type": "text", "text": {"body": "once"}})
    harnessed.step({"payload": document})
    harness = harnessed.harness
    assert harness.metric_total("queued", function="ingest") == 1
    assert harness.metric_total("delivered", function="inbound") == 1
    consumed = sum(i.records for i in harness.invocations if i.function == "inbound")

    # Past SQS's five minutes the deduplication id no longer protects the queue (moto forgets
    # it once the message is deleted): End User Messaging publishing the message again reaches
    # ingest, which finds it done in the ledger.
    harnessed.step({"action": "clock.advance", "seconds": 301})
    harnessed.step({"payload": document})

    assert harness.metric_total("duplicate", function="ingest", kind="text") == 1
    assert harness.metric_total("queued", function="ingest") == 1
    assert sum(i.records for i in harness.invocations if i.function == "inbound") == consumed
    assert harness.metric_total("duplicate", function="inbound") == 0
    assert harnessed.agent_texts(ANA) == ["once"]


def test_each_file_converted_for_its_destination_is_an_emf_converted_metric_by_kind(
    harnessed: Harnessed,
) -> None:
    harnessed.step({"action": "customer.voice", "customer": ANA, "path": "media/voice-note.ogg"})
    harnessed.step({"action": "customer.file", "customer": ANA, "path": "media/photo.jpg"})
    harnessed.step({"action": "agent.file", "customer": ANA, "path": "media/agent-reply.wav"})

    harness = harnessed.harness
    # The voice note became a WAV for the agent; the photo went as it was; the agent's WAV
    # became an Ogg/Opus voice note for WhatsApp.
    assert harness.metric_total("converted", function="inbound", kind="audio") == 1
    assert harness.metric_total("converted", function="inbound", kind="image") == 0
    assert harness.metric_total("converted", function="outbound", kind="attachment") == 1
    assert harness.metric_total("delivered", function="inbound", kind="image") == 1
    documents = [blob for blob in harness.metrics if "converted" in blob]
    assert len(documents) == 2
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "waconnect"
        assert directive["Dimensions"] == [["function", "kind"]]
        assert directive["Metrics"] == [{"Name": "converted", "Unit": "Count"}]
        assert document["converted"] == [1.0]


def _unconfigured_number_message(text: str, wamid: str) -> dict[str, Any]:
    """A notification whose business number carries no End User Messaging id."""
    document = eum_notification({"id": wamid, "type": "text", "text": {"body": text}}, customer=ANA)
    document["context"]["MetaPhoneNumberIds"] = []
    return document


def test_a_poison_message_is_dead_lettered_with_its_reason_and_redriven_once_fixed(
    harnessed: Harnessed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = harnessed.harness
    # Nobody mapped the Meta phone-number id: a message that carries no End User Messaging id
    # cannot be answered, and waiting will not change that.
    harness.redeploy(eum_phone_numbers={})
    poison = "wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQUZGRkZGRkZGRkZGRkZGRkZGRgA="
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "before"})
    harnessed.step({"payload": _unconfigured_number_message("the poison", poison)})
    harnessed.step(
        {
            "concurrently": [
                {"action": "customer.text", "customer": ANA, "text": "after"},
                {"action": "customer.text", "customer": BEN, "text": "meanwhile"},
            ],
        }
    )

    assert harnessed.agent_texts(ANA) == ["before", "after"]
    assert harnessed.agent_texts(BEN) == ["meanwhile"]
    assert harness.metric_total("dead-lettered", function="inbound") == 1

    resources = harness.resources
    assert resources is not None
    monkeypatch.setenv("WACONNECT_REGION", defaults.REGION)
    monkeypatch.setenv("WACONNECT_SQS_ENDPOINT_URL", harness.moto_endpoint_url)
    monkeypatch.setenv("WACONNECT_INBOUND_QUEUE_URL", resources.inbound.url)
    monkeypatch.setenv("WACONNECT_OUTBOUND_QUEUE_URL", resources.outbound.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    capsys.readouterr()

    assert main(["dlq", "list", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(listed) == 1
    assert listed[0]["source_queue"] == resources.inbound.url
    assert "is not configured (WACONNECT_EUM_PHONE_NUMBERS)" in listed[0]["reason"]
    assert listed[0]["item"].startswith("message wamid#")
    assert "poison" not in json.dumps(listed)  # ids only, never the message's words

    harness.redeploy(
        eum_phone_numbers={defaults.META_PHONE_NUMBER_ID: defaults.AWS_PHONE_NUMBER_ID}
    )
    assert main(["dlq", "redrive", "inbound"]) == 0
    assert "1 moved back" in capsys.readouterr().out
    assert harnessed.runner.cloud.settle(timeout=60)

    assert harnessed.agent_texts(ANA) == ["before", "after", "the poison"]
    assert harness.dead_letters("inbound") == []
    assert main(["dlq", "list", "inbound"]) == 0
    assert "0 dead-lettered" in capsys.readouterr().out


def test_a_message_failing_past_its_maximum_age_is_dead_lettered_and_the_customer_told() -> None:
    lines: list[dict[str, Any]] = []
    options = HarnessOptions(retry_base_delay_seconds=1, retry_max_age_seconds=2)
    with ScenarioRunner(
        seed=4, emit=lines.append, through_lambda=True, lambda_options=options
    ) as runner:
        world = Harnessed(runner)
        world.lines = lines
        harness = world.harness
        _no_sleep(world)
        runner.cloud.faults.fail_next(
            "StartChatContact", 500, ApiError("InternalServiceException", "down", 500)
        )
        effects = world.step({"action": "customer.text", "customer": ANA, "text": "anyone?"})

        dead = harness.dead_letters("inbound")
        assert len(dead) == 1
        reason = dead[0]["MessageAttributes"]["waconnect-reason"]["StringValue"]
        assert "InternalServiceException" in reason
        assert "the customer and agent were told" in reason
        assert [e["emoji"] for e in effects if e["kind"] == "reaction"] == ["❌"]
        assert runner.cloud.active_contact(ANA) is None

        # Told and claimed: brought back, it is a duplicate, and nobody hears of it again.
        resources = harness.resources
        assert resources is not None
        (listed,) = list_dead_letters(harness.sqs, resources.inbound.url)
        assert listed.told
        assert "already told: redriven, it is dropped as a duplicate" in listed.line()
        (moved,) = redrive(harness.sqs, resources.inbound.url)
        assert moved.told
        assert runner.cloud.settle(timeout=60)
        assert harness.metric_total("duplicate", function="inbound", kind="text") == 1
        assert harness.dead_letters("inbound") == []
        assert runner.cloud.active_contact(ANA) is None


def test_function_logs_carry_ids_and_never_the_customers_words(harnessed: Harnessed) -> None:
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "my secret words"})

    logs = [json.loads(line) for line in harnessed.harness.log_lines]
    assert logs, "the functions logged nothing"
    assert not [line for line in logs if "secret" in json.dumps(line)]
    delivered = [line for line in logs if line.get("function") == "inbound"]
    assert delivered
    assert all(line["item_id"].startswith("wamid#") for line in delivered)
    assert all(line["wamid"].startswith("wamid#") for line in delivered if "wamid" in line)
    contact_id = harnessed.runner.cloud.active_contact(ANA)
    assert any(line.get("contact_id") == contact_id for line in delivered)
    assert harnessed.harness.metric_total("delivered", function="inbound", kind="text") == 1
    assert harnessed.harness.metric_total("queued", function="ingest", kind="text") == 1


# A call after which the function's container is killed: the worst moment, the service did the
# work and the function never learns it. The record comes back after its visibility timeout and
# a fresh container takes the work over once the dead one's lease has run out.
@pytest.mark.parametrize(
    "operation",
    [
        "PutItem",
        "StartChatContact",
        "StartContactStreaming",
        "CreateParticipantConnection",
        "SendMessage",
        "SendWhatsAppMessage",
    ],
)
def test_a_container_killed_after_a_call_leaves_the_text_to_be_delivered_once_in_one_chat(
    harnessed: Harnessed, operation: str
) -> None:
    harnessed.harness.crash_at(operation)
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "hello"})
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "again"})

    killed = [i for i in harnessed.harness.invocations if i.error == "killed"]
    assert [i.function for i in killed] == ["inbound"]
    assert harnessed.agent_texts(ANA) == ["hello", "again"]
    chats = [c for c in harnessed.runner.cloud.connect_view.contacts() if c.customer == ANA]
    assert len(chats) == 1


def _payload(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        (REPO / "examples" / "payloads" / name).read_text(encoding="utf-8")
    )
    return document


def test_raw_payloads_duplicates_and_refusals_through_lambda_match_replay(tmp_path: Path) -> None:
    steps: list[dict[str, Any]] = [
        {"action": "customer.text", "customer": ANA, "text": "hello"},
        {
            "payload": _payload("eum-image-in-sns-envelope.json"),
            "media": {"1001000000000001": str(REPO / "examples" / "media" / "photo.jpg")},
        },
        {"payload": _payload("meta-location.json")},
        {"payload": _payload("meta-username-customer.json")},
        {"payload": _payload("eum-status-failed-24h-window.json")},
        {"payload": _payload("connect-agent-message.json")},
        {"payload": _payload("eum-image-in-sns-envelope.json")},
        {"action": "customer.text", "customer": ANA, "text": "twice", "repeat": 2},
        {"action": "agent.text", "customer": ANA, "text": "hello from the agent"},
        # End User Messaging publishes through SNS: a broken notification arrives wrapped.
        {
            "payload": {
                "Type": "Notification",
                "MessageId": "0b5f3c7e-1d2a-4e8b-9c6d-00000000000b",
                "TopicArn": defaults.INBOUND_TOPIC_ARN,
                "Message": json.dumps({"whatsAppWebhookEntry": 7, "context": {}}),
            }
        },
    ]
    path = tmp_path / "payloads.json"
    path.write_text(json.dumps(steps), encoding="utf-8")

    direct = replay(path)
    through_lambda = replay(path, through_lambda=True)

    assert list(through_lambda.lines) == list(direct.lines)
    kinds = [(line["to"], line["kind"]) for line in direct.lines]
    assert ("system", "ignored") in kinds
    assert ("system", "rejected") in kinds
    assert ("customer", "reaction") in kinds
    assert [line["text"] for line in direct.lines if line.get("text") == "twice"] == ["twice"]


def test_a_record_whose_function_never_finishes_is_moved_by_sqs_and_listed_without_reason() -> None:
    lines: list[dict[str, Any]] = []
    options = HarnessOptions(max_receive_count=2, visibility_timeout=1)
    with ScenarioRunner(
        seed=6, emit=lines.append, through_lambda=True, lambda_options=options
    ) as runner:
        world = Harnessed(runner)
        world.lines = lines
        harness = world.harness
        # Every invocation dies at its first DynamoDB write, as one that always times out.
        harness.crash_at("PutItem", count=1000)
        world.step({"action": "customer.text", "customer": ANA, "text": "doomed"})

        resources = harness.resources
        assert resources is not None
        dead = list_dead_letters(harness.sqs, resources.inbound.url)
        killed = [i for i in harness.invocations if i.error == "killed"]
        assert len(killed) == 2
        assert len(dead) == 1
        assert dead[0].reason.startswith("no reason recorded: SQS moved it")
        assert dead[0].item.startswith("message wamid#")


def test_a_crash_and_throttles_through_lambda_have_the_same_effects_as_replay(
    tmp_path: Path,
) -> None:
    steps: list[dict[str, Any]] = [
        {"action": "customer.text", "customer": ANA, "text": "hello"},
        {"action": "bridge.crash", "at": "SendMessage"},
        {"action": "customer.text", "customer": ANA, "text": "the crash comes after this"},
        {"action": "fault.throttle", "operation": "SendMessage", "count": 3},
        {"action": "customer.text", "customer": BEN, "text": "throttled at first"},
        {"action": "agent.text", "customer": ANA, "text": "still here"},
        {"action": "customer.text", "customer": ANA, "text": "after"},
    ]
    path = tmp_path / "reliability.json"
    path.write_text(json.dumps(steps), encoding="utf-8")

    direct = replay(path)
    through_lambda = replay(path, through_lambda=True)

    assert direct.exit_code == through_lambda.exit_code == 0
    assert list(through_lambda.lines) == list(direct.lines)
    texts = [line["text"] for line in direct.lines if line["to"] == "agent"]
    assert texts == ["hello", "the crash comes after this", "throttled at first", "after"]


def test_a_phone_customer_who_gains_a_bsuid_keeps_one_queue_group_and_one_chat(
    harnessed: Harnessed,
) -> None:
    both = {"wa_id": ANA, "user_id": "US.13491208655302741918", "name": "Ana"}
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "by phone"})
    harnessed.step({"action": "customer.text", "customer": both, "text": "with a BSUID"})
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "by phone again"})

    chats = list(harnessed.runner.cloud.connect_view.contacts())
    assert len(chats) == 1
    texts = [
        str(item["Content"])
        for item in harnessed.runner.cloud.transcript(chats[0].contact_id)
        if item.get("ParticipantRole") == "CUSTOMER" and item.get("Type") == "MESSAGE"
    ]
    assert texts == ["by phone", "with a BSUID", "by phone again"]


def test_a_customer_waiting_for_chat_capacity_is_kept_and_delivered_as_in_replay(
    tmp_path: Path,
) -> None:
    steps: list[dict[str, Any]] = [
        {"action": "connect.quota", "active_chats": 1},
        {"action": "customer.text", "customer": ANA, "name": "Ana", "text": "one"},
        {"action": "customer.text", "customer": BEN, "name": "Ben", "text": "two"},
        {"action": "customer.text", "customer": BEN, "name": "Ben", "text": "still waiting"},
        {"action": "agent.end", "customer": ANA},
    ]
    path = tmp_path / "quota.json"
    path.write_text(json.dumps(steps), encoding="utf-8")

    direct = replay(path)
    through_lambda = replay(path, through_lambda=True)

    assert direct.exit_code == through_lambda.exit_code == 0
    assert list(through_lambda.lines) == list(direct.lines)
    to_agent = [(line["step"], line["text"]) for line in direct.lines if line["to"] == "agent"]
    assert to_agent == [(1, "one"), (4, "two"), (4, "still waiting")]
    kinds = {line["kind"] for line in through_lambda.lines}
    assert "failed" not in kinds
    assert "reaction" not in kinds  # nobody was told their message failed


def test_records_kept_for_capacity_are_not_dead_lettered_and_go_on_once_a_chat_ends(
    harnessed: Harnessed,
) -> None:
    harnessed.step({"action": "connect.quota", "active_chats": 1})
    harnessed.step({"action": "customer.text", "customer": ANA, "text": "one"})
    harnessed.step({"action": "customer.text", "customer": BEN, "text": "two"})
    harnessed.step({"action": "customer.text", "customer": BEN, "text": "three"})
    harness = harnessed.harness
    assert harnessed.agent_texts(BEN) == []
    assert harness.metric_total("deferred", function="inbound") >= 1

    harnessed.step({"action": "agent.end", "customer": ANA})

    assert harnessed.agent_texts(BEN) == ["two", "three"]
    assert harness.dead_letters("inbound") == []
    assert harness.run_due() == 0  # nothing is kept any more
