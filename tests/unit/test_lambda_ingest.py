"""``ingest`` and ``agent_ingest``: exactly what they send to SQS, and what a refusal costs."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.stub import ANY, Stubber
from tests.documents import connect_text, eum_texts

from waconnect.domain.session import SessionKey
from waconnect.domain.whatsapp import InboundMessage
from waconnect.entrypoints.lambda_handlers import functions
from waconnect.entrypoints.lambda_handlers.queueing import group_id
from waconnect.entrypoints.lambda_handlers.runtime import Runtime
from waconnect.entrypoints.lambda_handlers.schedule import RetrySchedule
from waconnect.errors import ConfigurationError, TransientError
from waconnect.services.outcome import Outcome
from waconnect.settings import Settings

INBOUND = "https://sqs.us-east-1.amazonaws.com/123456789012/waconnect-inbound.fifo"
OUTBOUND = "https://sqs.us-east-1.amazonaws.com/123456789012/waconnect-outbound.fifo"


def settings(**changes: str) -> Settings:
    return Settings.from_env(
        {
            "WACONNECT_REGION": "us-east-1",
            "WACONNECT_CONNECT_INSTANCE_ID": "instance-1",
            "WACONNECT_CONTACT_FLOW_ID": "flow-1",
            "WACONNECT_STREAMING_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:streaming",
            "WACONNECT_MEDIA_BUCKET": "media",
            "WACONNECT_INBOUND_QUEUE_URL": INBOUND,
            "WACONNECT_OUTBOUND_QUEUE_URL": OUTBOUND,
            **changes,
        }
    )


def sns_event(message: dict[str, Any], message_id: str = "sns-1", **attributes: str) -> Any:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:topic",
                    "Message": json.dumps(message),
                    "MessageAttributes": {
                        k: {"Type": "String", "Value": v} for k, v in attributes.items()
                    },
                },
            }
        ]
    }


class KnownCustomers:
    """What ingest asks the bridge: a customer's session key (their linked ids), and which
    messages were handled before (``handled``; ``ledger_down``: the read fails)."""

    def __init__(self, linked: dict[str, str] | None = None) -> None:
        self.linked = linked or {}
        self.inbound = self
        self.handled: set[str] = set()
        self.ledger_down = False

    def handled_before(self, wamids: Sequence[str]) -> set[str]:
        if self.ledger_down:
            raise TransientError("ProvisionedThroughputExceededException", code="throttled")
        return self.handled & set(wamids)

    def customer_key(self, message: InboundMessage) -> SessionKey:
        carried = SessionKey.of(message.business, message.customer)
        customer = self.linked.get(carried.customer, carried.customer)
        return SessionKey(business_number=carried.business_number, customer=customer)


def runtime_with(
    sqs: Any,
    seen: list[Outcome],
    linked: dict[str, str] | None = None,
    bridge: KnownCustomers | None = None,
    **changes: str,
) -> Runtime:
    return Runtime(
        settings=settings(**changes),
        bridge=bridge or KnownCustomers(linked),  # type: ignore[arg-type]
        sqs=sqs,
        # A logger of its own: the functions' one writes through the package logger, and
        # outside the harness nothing would take its handler off for later tests.
        logger=Logger(service="ingest-test", stream=io.StringIO()),
        schedule=RetrySchedule(),
        observe=seen.append,
    )


@pytest.fixture
def sqs() -> Any:
    return boto3.client(
        "sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def test_ingest_sends_one_entry_per_message_grouped_by_customer_and_deduplicated_by_wamid(
    sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = sns_event(eum_texts(("wamid.A1", "one"), ("wamid.A2", "two"), wa_id="1555", name="A"))
    group = group_id("100000000000001#1555")
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": []},
            {
                "QueueUrl": INBOUND,
                "Entries": [
                    {
                        "Id": "0",
                        "MessageBody": ANY,
                        "MessageGroupId": group,
                        "MessageDeduplicationId": "wamid.A1",
                    },
                    {
                        "Id": "1",
                        "MessageBody": ANY,
                        "MessageGroupId": group,
                        "MessageDeduplicationId": "wamid.A2",
                    },
                ],
            },
        )
        answer = functions.ingest(runtime_with(sqs, []), event, None)
        stub.assert_no_pending_responses()

    assert answer == {"queued": 2}
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert [(m["function"], m["kind"], m["queued"]) for m in metrics] == [("ingest", "text", [2.0])]


def test_ingest_raises_when_sqs_refuses_an_entry_so_sns_delivers_again(sqs: Any) -> None:
    event = sns_event(eum_texts(("wamid.A1", "one"), wa_id="1555", name="A"))
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {
                "Successful": [],
                "Failed": [
                    {"Id": "0", "SenderFault": False, "Code": "InternalError", "Message": "x"}
                ],
            },
        )
        with pytest.raises(TransientError, match="SQS refused 1 of 1 entries: InternalError"):
            functions.ingest(runtime_with(sqs, []), event, None)


def test_a_broken_notification_is_reported_rejected_and_nothing_is_sent(sqs: Any) -> None:
    seen: list[Outcome] = []
    with Stubber(sqs) as stub:
        answer = functions.ingest(
            runtime_with(sqs, seen), sns_event({"whatsAppWebhookEntry": 7, "context": {}}), None
        )
        stub.assert_no_pending_responses()

    assert answer == {"queued": 0}
    assert [o.kind for o in seen] == ["rejected"]
    assert "whatsAppWebhookEntry" in seen[0].reason


def test_agent_ingest_groups_by_the_initial_contact(sqs: Any) -> None:
    event = sns_event(
        connect_text("hi", contact_id="contact-9", event_id="item-9"),
        message_id="sns-9",
        ParticipantRole="AGENT",
        MessageVisibility="ALL",
    )
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": []},
            {
                "QueueUrl": OUTBOUND,
                "Entries": [
                    {
                        "Id": "0",
                        "MessageBody": ANY,
                        "MessageGroupId": group_id("contact#contact-9"),
                        "MessageDeduplicationId": "sns-9#0",
                    }
                ],
            },
        )
        assert functions.agent_ingest(runtime_with(sqs, []), event, None) == {"queued": 1}


def test_ingest_without_its_queue_setting_names_the_missing_variable(sqs: Any) -> None:
    with pytest.raises(ConfigurationError, match="WACONNECT_INBOUND_QUEUE_URL"):
        functions.ingest(runtime_with(sqs, [], WACONNECT_INBOUND_QUEUE_URL=""), {}, None)


def test_a_customer_known_by_another_id_is_queued_in_their_linked_group(sqs: Any) -> None:
    event = sns_event(eum_texts(("wamid.B1", "hi"), wa_id="1555", name="A"))
    linked = group_id("100000000000001#US.42")
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": []},
            {
                "QueueUrl": INBOUND,
                "Entries": [
                    {
                        "Id": "0",
                        "MessageBody": ANY,
                        "MessageGroupId": linked,
                        "MessageDeduplicationId": "wamid.B1",
                    }
                ],
            },
        )
        functions.ingest(runtime_with(sqs, [], linked={"1555": "US.42"}), event, None)
        stub.assert_no_pending_responses()


SENT: dict[str, Any] = {"Successful": [], "Failed": []}


def _batch_of(*wamids: str) -> dict[str, Any]:
    return {
        "QueueUrl": INBOUND,
        "Entries": [
            {
                "Id": str(index),
                "MessageBody": ANY,
                "MessageGroupId": ANY,
                "MessageDeduplicationId": wamid,
            }
            for index, wamid in enumerate(wamids)
        ],
    }


def test_a_message_the_ledger_records_as_handled_is_dropped_and_counted_duplicate(
    sqs: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = sns_event(eum_texts(("wamid.C1", "old"), ("wamid.C2", "new"), wa_id="1555", name="A"))
    bridge = KnownCustomers()
    bridge.handled = {"wamid.C1"}
    seen: list[Outcome] = []
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch", {"Successful": [], "Failed": []}, _batch_of("wamid.C2")
        )
        answer = functions.ingest(runtime_with(sqs, seen, bridge=bridge), event, None)
        stub.assert_no_pending_responses()

    assert answer == {"queued": 1}
    assert [(o.kind, o.wamid) for o in seen] == [("duplicate", "wamid.C1")]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    counted = {
        (m["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], m["kind"]) for m in metrics
    }
    assert counted == {("duplicate", "text"), ("queued", "text")}


def test_a_notification_of_duplicates_only_sends_nothing_to_sqs(sqs: Any) -> None:
    event = sns_event(eum_texts(("wamid.D1", "again"), wa_id="1555", name="A"))
    bridge = KnownCustomers()
    bridge.handled = {"wamid.D1"}
    with Stubber(sqs):  # no response stubbed: any SQS call would fail the test
        answer = functions.ingest(runtime_with(sqs, [], bridge=bridge), event, None)

    assert answer == {"queued": 0}


def test_when_the_ledger_cannot_be_read_every_message_is_queued(sqs: Any) -> None:
    event = sns_event(eum_texts(("wamid.E1", "one"), ("wamid.E2", "two"), wa_id="1555", name="A"))
    bridge = KnownCustomers()
    bridge.handled = {"wamid.E1"}
    bridge.ledger_down = True
    with Stubber(sqs) as stub:
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": []},
            _batch_of("wamid.E1", "wamid.E2"),
        )
        answer = functions.ingest(runtime_with(sqs, [], bridge=bridge), event, None)
        stub.assert_no_pending_responses()

    assert answer == {"queued": 2}
