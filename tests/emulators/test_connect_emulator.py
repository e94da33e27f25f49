from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulators.conftest import NO_RETRY, start_chat
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud

BASE: dict[str, Any] = {
    "InstanceId": defaults.INSTANCE_ID,
    "ContactFlowId": defaults.CONTACT_FLOW_ID,
    "ParticipantDetails": {"DisplayName": "Ana"},
}


def _start(cloud: Cloud, connect: Any = None, **changes: Any) -> dict[str, Any]:
    connect = connect or cloud.client("connect", **NO_RETRY)
    params = {**BASE, "ClientToken": f"token-{cloud.journal.seq}-{len(changes)}", **changes}
    return connect.start_chat_contact(**params)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"ParticipantDetails": {"DisplayName": "x" * 257}}, id="display-name-257"),
        pytest.param({"ChatDurationInMinutes": 59}, id="duration-59"),
        pytest.param({"ChatDurationInMinutes": 10081}, id="duration-10081"),
        pytest.param({"SupportedMessagingContentTypes": ["text/markdown"]}, id="no-text-plain"),
        pytest.param(
            {"InitialMessage": {"ContentType": "text/plain", "Content": "é" * 8193}},
            id="initial-message-over-16384-bytes",
        ),
        pytest.param({"Attributes": {"customer id": "1"}}, id="attribute-key-with-a-space"),
        pytest.param({"Attributes": {"kunde.nr": "1"}}, id="attribute-key-with-a-dot"),
        pytest.param({"Attributes": {"": "1"}}, id="attribute-key-empty"),
        pytest.param({"Attributes": {"a": "x" * 32767, "b": ""}}, id="attributes-32769-bytes"),
        pytest.param({"Attributes": {"a": "é" * 16384}}, id="attributes-counted-in-utf8-bytes"),
    ],
)
def test_start_chat_contact_refuses_documented_limits_as_invalid_parameter(
    cloud: Cloud, changes: dict[str, Any]
) -> None:
    # Client-side validation off: the emulator itself must refuse what AWS refuses.
    connect = cloud.client("connect", parameter_validation=False, **NO_RETRY)
    with pytest.raises(connect.exceptions.InvalidParameterException):
        _start(cloud, connect, **changes)


def test_start_chat_contact_accepts_the_limits_themselves(cloud: Cloud) -> None:
    started = _start(
        cloud,
        ParticipantDetails={"DisplayName": "x" * 256},
        ChatDurationInMinutes=10080,
        InitialMessage={"ContentType": "text/plain", "Content": "y" * 1024},
    )
    transcript = cloud.transcript(started["ContactId"])
    assert [item["Content"] for item in transcript] == ["y" * 1024]


def test_start_chat_contact_accepts_attributes_of_exactly_32768_bytes(cloud: Cloud) -> None:
    attributes = {"customer_id-1": "5" * (32768 - len("customer_id-1") - 1), "A": ""}
    assert _start(cloud, Attributes=attributes)["ContactId"]


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"InstanceId": "00000000-0000-4000-8000-000000000000"}, id="instance"),
        pytest.param({"ContactFlowId": "00000000-0000-4000-8000-000000000000"}, id="flow"),
    ],
)
def test_start_chat_contact_with_unknown_ids_is_resource_not_found(
    cloud: Cloud, changes: dict[str, Any]
) -> None:
    connect = cloud.client("connect", **NO_RETRY)
    with pytest.raises(connect.exceptions.ResourceNotFoundException):
        _start(cloud, connect, **changes)


def test_repeated_client_token_returns_the_first_contact_without_a_second(cloud: Cloud) -> None:
    seq = cloud.journal.seq
    first = _start(cloud, ClientToken="same-token", CustomerId="15550100077")
    second = _start(cloud, ClientToken="same-token", CustomerId="15550100077")
    assert (second["ContactId"], second["ParticipantToken"]) == (
        first["ContactId"],
        first["ParticipantToken"],
    )
    started = [e for e in cloud.journal.since(seq) if e["kind"] == "chat.started"]
    assert started == [
        {"to": "system", "kind": "chat.started", "customer": "15550100077",
         "contact_id": first["ContactId"]}
    ]  # fmt: skip


def test_start_contact_streaming_refuses_a_non_sns_arn(cloud: Cloud) -> None:
    started = _start(cloud)
    connect = cloud.client("connect", **NO_RETRY)
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.start_contact_streaming(
            InstanceId=defaults.INSTANCE_ID,
            ContactId=started["ContactId"],
            ChatStreamingConfiguration={
                "StreamingEndpointArn": "arn:aws:sqs:us-east-1:123456789012:queue"
            },
            ClientToken="s-1",
        )


def test_start_contact_streaming_allows_at_most_two_topics(cloud: Cloud) -> None:
    started = _start(cloud)
    connect = cloud.client("connect", **NO_RETRY)
    arns = [f"arn:aws:sns:us-east-1:{defaults.ACCOUNT_ID}:extra-{n}" for n in range(3)]
    for arn in arns:
        cloud.topic(arn)

    def stream(arn: str, token: str) -> None:
        connect.start_contact_streaming(
            InstanceId=defaults.INSTANCE_ID,
            ContactId=started["ContactId"],
            ChatStreamingConfiguration={"StreamingEndpointArn": arn},
            ClientToken=token,
        )

    stream(arns[0], "a")
    stream(arns[1], "b")
    with pytest.raises(connect.exceptions.LimitExceededException):
        stream(arns[2], "c")


def test_start_contact_streaming_on_an_ended_contact_is_refused(cloud: Cloud) -> None:
    chat = start_chat(cloud, customer="15550100078")
    cloud.end_chat(chat.contact_id)
    with pytest.raises(ClientError) as raised:
        chat.connect.start_contact_streaming(
            InstanceId=defaults.INSTANCE_ID,
            ContactId=chat.contact_id,
            ChatStreamingConfiguration={"StreamingEndpointArn": defaults.STREAMING_TOPIC_ARN},
            ClientToken="late",
        )
    assert raised.value.response["Error"]["Code"] == "InvalidRequestException"


def test_same_seed_and_same_actions_give_the_same_ids() -> None:
    def run() -> tuple[str, ...]:
        with Cloud(seed=7) as cloud:
            chat = start_chat(cloud, customer="15550100079", token="t")
            sent = chat.participant.send_message(
                ConnectionToken=chat.connection_token,
                ContentType="text/plain",
                Content="hi",
                ClientToken="m",
            )
            media_id = cloud.register_media(None, b"abc", "image/jpeg")
            return (chat.contact_id, chat.participant_token, chat.connection_token,
                    sent["Id"], media_id)  # fmt: skip

    first, second = run(), run()
    assert first == second
    with Cloud(seed=8) as other:
        assert start_chat(other, customer="15550100079", token="t").contact_id != first[0]
