from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.emulators.conftest import NO_RETRY, Chat, start_chat
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.protocol import ApiError


def _code(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _send(chat: Chat, content: str, token: str, content_type: str = "text/plain") -> str:
    sent = chat.participant.send_message(
        ConnectionToken=chat.connection_token,
        ContentType=content_type,
        Content=content,
        ClientToken=token,
    )
    return str(sent["Id"])


def test_connection_expiry_is_one_day_on_the_emulator_clock(cloud: Cloud) -> None:
    chat = start_chat(cloud, customer="15550100101")
    again = chat.participant.create_participant_connection(
        ParticipantToken=chat.participant_token, Type=["CONNECTION_CREDENTIALS"]
    )
    expiry = again["ConnectionCredentials"]["Expiry"]
    from datetime import datetime

    seconds = datetime.fromisoformat(expiry).timestamp() - cloud.clock.now()
    assert 86_390 < seconds <= 86_400


def test_text_over_16384_bytes_is_a_validation_exception(chat: Chat) -> None:
    with pytest.raises(chat.participant.exceptions.ValidationException):
        _send(chat, "x" * 16385, "too-long")
    assert _send(chat, "x" * 16384, "just-fits")


def test_markdown_is_refused_when_the_chat_does_not_support_it(chat: Chat) -> None:
    with pytest.raises(chat.participant.exceptions.ValidationException):
        _send(chat, "**hi**", "md", content_type="text/markdown")


def test_repeated_client_token_sends_once(cloud: Cloud, chat: Chat) -> None:
    seq = cloud.journal.seq
    first = _send(chat, "hello", "same")
    second = _send(chat, "hello", "same")
    assert first == second
    messages = [i for i in cloud.transcript(chat.contact_id) if i["Type"] == "MESSAGE"]
    assert [m["Content"] for m in messages] == ["hello"]
    assert [e["kind"] for e in cloud.journal.since(seq)] == ["message"]


def test_expired_connection_token_is_access_denied_403(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100102")
    fresh_cloud.clock.advance(86_401)
    with pytest.raises(ClientError) as raised:
        _send(chat, "late", "late")
    assert _code(raised) == ("AccessDeniedException", 403)


def test_expire_token_refuses_the_connection_but_the_participant_token_reconnects(
    cloud: Cloud, chat: Chat
) -> None:
    cloud.expire_token(chat.contact_id)
    with pytest.raises(ClientError) as raised:
        _send(chat, "after expiry", "e1")
    assert _code(raised) == ("AccessDeniedException", 403)
    seq = cloud.journal.seq
    renewed = chat.participant.create_participant_connection(
        ParticipantToken=chat.participant_token, Type=["CONNECTION_CREDENTIALS"]
    )
    chat.connection_token = renewed["ConnectionCredentials"]["ConnectionToken"]
    assert _send(chat, "after refresh", "e2")
    assert [e["kind"] for e in cloud.journal.since(seq)] == ["connection.refreshed", "message"]


def test_ended_chat_refuses_connection_and_participant_tokens(cloud: Cloud, chat: Chat) -> None:
    cloud.end_chat(chat.contact_id)
    with pytest.raises(ClientError) as raised:
        _send(chat, "too late", "x")
    assert _code(raised) == ("AccessDeniedException", 403)
    with pytest.raises(ClientError) as raised:
        chat.participant.create_participant_connection(
            ParticipantToken=chat.participant_token, Type=["CONNECTION_CREDENTIALS"]
        )
    assert _code(raised) == ("AccessDeniedException", 403)
    assert cloud.active_contact(chat.customer) is None


def test_chat_ends_when_its_duration_elapses_on_the_clock(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100103")
    fresh_cloud.clock.advance(25 * 60 * 60 + 1)
    assert fresh_cloud.active_contact("15550100103") is None
    assert fresh_cloud.journal.since(0)[-1] == {
        "to": "system",
        "kind": "chat.ended",
        "contact_id": chat.contact_id,
    }


def test_first_connection_later_than_five_minutes_is_refused(fresh_cloud: Cloud) -> None:
    from waconnect.sandbox import defaults

    connect = fresh_cloud.client("connect", **NO_RETRY)
    participant = fresh_cloud.client("connectparticipant", **NO_RETRY)
    started = connect.start_chat_contact(
        InstanceId=defaults.INSTANCE_ID,
        ContactFlowId=defaults.CONTACT_FLOW_ID,
        ParticipantDetails={"DisplayName": "Ana"},
        ClientToken="slow",
    )
    fresh_cloud.clock.advance(301)
    with pytest.raises(participant.exceptions.AccessDeniedException):
        participant.create_participant_connection(
            ParticipantToken=started["ParticipantToken"], Type=["CONNECTION_CREDENTIALS"]
        )


def test_disconnect_participant_ends_the_chat_and_streams_chat_ended(
    cloud: Cloud, chat: Chat
) -> None:
    chat.participant.disconnect_participant(ConnectionToken=chat.connection_token, ClientToken="d")
    assert cloud.active_contact(chat.customer) is None
    events = [e["Message"]["ContentType"].rsplit(".", 2)[-2:] for e in chat.envelopes()]
    assert events[-2:] == [["participant", "left"], ["chat", "ended"]]
    assert cloud.journal.since(0)[-1]["kind"] == "chat.ended"


def test_read_receipt_needs_the_message_id_of_this_chat(cloud: Cloud, chat: Chat) -> None:
    agent_message = cloud.agent_sends_text(chat.contact_id, "Hi, how can I help?")
    read = "application/vnd.amazonaws.connect.event.message.read"
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.send_event(
            ConnectionToken=chat.connection_token, ContentType=read, Content="{}", ClientToken="r0"
        )
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.send_event(
            ConnectionToken=chat.connection_token,
            ContentType=read,
            Content=json.dumps({"messageId": "not-a-message"}),
            ClientToken="r1",
        )
    seq = cloud.journal.seq
    chat.participant.send_event(
        ConnectionToken=chat.connection_token,
        ContentType=read,
        Content=json.dumps({"messageId": agent_message}),
        ClientToken="r2",
    )
    assert cloud.journal.since(seq) == [
        {"to": "agent", "kind": "event", "contact_id": chat.contact_id, "content_type": read}
    ]


def test_an_event_type_a_participant_cannot_send_is_refused(chat: Chat) -> None:
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.send_event(
            ConnectionToken=chat.connection_token,
            ContentType="application/vnd.amazonaws.connect.event.chat.ended",
            ClientToken="bad-event",
        )


def test_get_transcript_pages_through_the_chat(cloud: Cloud, chat: Chat) -> None:
    for n in range(3):
        _send(chat, f"m{n}", f"t{n}")
    page = chat.participant.get_transcript(
        ConnectionToken=chat.connection_token, MaxResults=2, ScanDirection="FORWARD"
    )
    rest = chat.participant.get_transcript(
        ConnectionToken=chat.connection_token,
        MaxResults=10,
        ScanDirection="FORWARD",
        NextToken=page["NextToken"],
    )
    contents = [i.get("Content") for i in page["Transcript"] + rest["Transcript"]]
    assert [c for c in contents if c] == ["m0", "m1", "m2"]


def test_injected_fault_fails_the_next_calls_then_clears(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100104")
    fresh_cloud.faults.fail_next(
        "SendMessage", 2, ApiError("ThrottlingException", "Rate exceeded", 429)
    )
    for token in ("f1", "f2"):
        with pytest.raises(chat.participant.exceptions.ThrottlingException):
            _send(chat, "hi", token)
    assert _send(chat, "hi", "f3")
    assert fresh_cloud.faults.fired == [("SendMessage", "ThrottlingException")] * 2
