from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud

NO_RETRY = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
CUSTOMER_NUMBER = "15550100001"
# How long a test waits for the emulators' threads before failing: the machine may be busy.
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    with Cloud() as started:
        yield started


@pytest.fixture
def fresh_cloud() -> Iterator[Cloud]:
    with Cloud() as started:
        yield started


@dataclass
class Chat:
    cloud: Cloud
    contact_id: str
    participant_token: str
    connection_token: str
    participant: Any
    connect: Any
    customer: str

    def envelopes(self) -> list[dict[str, Any]]:
        """Every streaming notification published for this contact so far, decoded."""
        assert self.cloud.settle(WAIT_SECONDS), "the cloud did not settle"
        found = []
        for text in self.cloud.streaming_topic.delivered:
            envelope = json.loads(text)
            message = json.loads(envelope["Message"])
            if message.get("ContactId") == self.contact_id:
                envelope["Message"] = message
                found.append(envelope)
        return found


def start_chat(cloud: Cloud, *, customer: str = CUSTOMER_NUMBER, token: str = "") -> Chat:
    connect = cloud.client("connect", **NO_RETRY)
    participant = cloud.client("connectparticipant", **NO_RETRY)
    started = connect.start_chat_contact(
        InstanceId=defaults.INSTANCE_ID,
        ContactFlowId=defaults.CONTACT_FLOW_ID,
        ParticipantDetails={"DisplayName": "Ana"},
        CustomerId=customer,
        ClientToken=token or f"start-{customer}-{cloud.journal.seq}",
    )
    connect.start_contact_streaming(
        InstanceId=defaults.INSTANCE_ID,
        ContactId=started["ContactId"],
        ChatStreamingConfiguration={"StreamingEndpointArn": defaults.STREAMING_TOPIC_ARN},
        ClientToken=f"stream-{started['ContactId']}",
    )
    connection = participant.create_participant_connection(
        ParticipantToken=started["ParticipantToken"],
        Type=["CONNECTION_CREDENTIALS"],
        ConnectParticipant=True,
    )
    return Chat(
        cloud=cloud,
        contact_id=started["ContactId"],
        participant_token=started["ParticipantToken"],
        connection_token=connection["ConnectionCredentials"]["ConnectionToken"],
        participant=participant,
        connect=connect,
        customer=customer,
    )


@pytest.fixture
def chat(cloud: Cloud) -> Chat:
    return start_chat(cloud, customer=f"1555010{cloud.journal.seq:04d}")
