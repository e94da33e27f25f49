"""Injected faults answer as the services answer: boto3 parses each into the modelled error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.emulators.conftest import NO_RETRY, WAIT_SECONDS, start_chat
from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.faults import Faults

ANA = Customer(wa_id="15550100001", name="Ana")


def _send_whatsapp(cloud: Cloud, client: Any | None = None) -> dict[str, Any]:
    eum = client or cloud.client("socialmessaging", **NO_RETRY)
    result: dict[str, Any] = eum.send_whatsapp_message(
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        message=b'{"messaging_product":"whatsapp","to":"15550100001","type":"text",'
        b'"text":{"body":"hi"}}',
        metaApiVersion="v20.0",
    )
    return result


def _error(call: Any) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def test_a_throttled_whatsapp_send_is_the_modelled_throttling_error(fresh_cloud: Cloud) -> None:
    fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    fresh_cloud.faults.throttle("SendWhatsAppMessage", count=2)

    for _ in range(2):
        error = _error(lambda: _send_whatsapp(fresh_cloud))
        assert error.response["Error"]["Code"] == "ThrottledRequestException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert _send_whatsapp(fresh_cloud)["messageId"]  # the third call goes through
    assert fresh_cloud.faults.fired == [("SendWhatsAppMessage", "ThrottledRequestException")] * 2


def test_throttling_and_server_errors_follow_each_services_model(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud)
    faults = fresh_cloud.faults
    faults.throttle("SendMessage")
    faults.error("GetAttachment", 500)
    faults.throttle("StartChatContact")
    faults.error("StartChatContact", 503)

    send = _error(
        lambda: chat.participant.send_message(
            ConnectionToken=chat.connection_token, ContentType="text/plain", Content="hi"
        )
    )
    download = _error(
        lambda: chat.participant.get_attachment(
            ConnectionToken=chat.connection_token, AttachmentId="nothing-yet"
        )
    )
    # StartChatContact models no throttling error: Connect's API front answers TooManyRequests
    # (LimitExceededException is the active-chat quota); a 503 it does not model is AWS's own.
    throttled = _error(lambda: start_chat(fresh_cloud, customer="15550100002"))
    unavailable = _error(lambda: start_chat(fresh_cloud, customer="15550100002"))

    assert [
        (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        for e in (send, download, throttled, unavailable)
    ] == [
        ("ThrottlingException", 429),
        ("InternalServerException", 500),
        ("TooManyRequestsException", 429),
        ("ServiceUnavailable", 503),
    ]
    # botocore's own retry logic recognises them for what they are.
    assert isinstance(send, chat.participant.exceptions.ThrottlingException)
    assert isinstance(download, chat.participant.exceptions.InternalServerException)


def test_a_delayed_call_takes_effect_after_the_client_gave_up_and_settle_waits_for_it(
    fresh_cloud: Cloud,
) -> None:
    # The client gives up long before the call runs, however busy the machine is meanwhile.
    fresh_cloud.faults.delay("StartChatContact", 3.0)
    impatient = fresh_cloud.client(
        "connect", retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=0.2
    )
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        impatient.start_chat_contact(
            InstanceId=defaults.INSTANCE_ID,
            ContactFlowId=defaults.CONTACT_FLOW_ID,
            ParticipantDetails={"DisplayName": "Ana"},
            ClientToken="delayed-start",
        )
    assert _active_chats(fresh_cloud) == 0  # the client gave up before the call ran

    assert fresh_cloud.settle(WAIT_SECONDS)
    assert time.monotonic() - started >= 3.0  # settle waited for the call in flight
    assert _active_chats(fresh_cloud) == 1
    assert [e["kind"] for e in fresh_cloud.journal.since(0)] == ["chat.started"]


def test_past_the_active_chat_quota_connect_refuses_new_chats(fresh_cloud: Cloud) -> None:
    fresh_cloud.limit_active_chats(1)
    first = start_chat(fresh_cloud)

    refused = _error(lambda: start_chat(fresh_cloud, customer="15550100002"))
    assert refused.response["Error"]["Code"] == "LimitExceededException"
    assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    fresh_cloud.end_chat(first.contact_id)
    assert start_chat(fresh_cloud, customer="15550100002").contact_id != first.contact_id


def test_the_call_list_names_each_call_and_who_made_it(fresh_cloud: Cloud) -> None:
    tagged = fresh_cloud.client("socialmessaging", **NO_RETRY)
    tagged.meta.events.register(
        "before-sign",
        lambda request, **_: request.headers.__setitem__(defaults.CALLER_HEADER, "bridge-7"),
    )
    fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    _send_whatsapp(fresh_cloud, tagged)
    _send_whatsapp(fresh_cloud)

    assert [(c.operation, c.caller) for c in fresh_cloud.dispatcher.calls] == [
        ("SendWhatsAppMessage", "bridge-7"),
        ("SendWhatsAppMessage", ""),
    ]


@pytest.mark.parametrize(
    ("arm", "problem"),
    [
        (lambda f: f.throttle("SendSomething"), "not an operation"),
        (lambda f: f.error("SendMessage", 404), "5xx"),
        (lambda f: f.delay("SendMessage", 0), "positive"),
        (lambda f: f.throttle("SendMessage", count=0), "at least 1"),
        (lambda f: f.crash("SendMessage", nth=0), "counts from 1"),
    ],
)
def test_a_fault_that_cannot_happen_is_refused(arm: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        arm(Faults())


def test_a_crash_fault_waits_for_the_nth_call() -> None:
    faults = Faults()
    faults.crash("SendWhatsAppMessage", nth=3)
    taken = [faults.take_crash("SendWhatsAppMessage") for _ in range(4)]
    assert taken == [False, False, True, False]


def _active_chats(cloud: Cloud) -> int:
    return sum(contact.active for contact in cloud.connect_view.contacts())
