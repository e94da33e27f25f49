"""translate_errors labels each failure with a Kind where it happens, and tells a request that
certainly did not take effect from one that may have (a send without an idempotency token)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from waconnect.adapters.aws.errors import translate_errors
from waconnect.errors import (
    CapacityExceeded,
    DeliveryError,
    Kind,
    PermanentError,
    TransientError,
    Unconfirmed,
    meta_error_kind,
)


def client(service: str, endpoint_url: str | None = None, **config: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="AKIDTESTEXAMPLE",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )
    retries = Config(retries={"mode": "standard", "total_max_attempts": 1}, **config)
    return session.client(service, config=retries, endpoint_url=endpoint_url)


def start_chat_refused(code: str, status: int, message: str = "quota") -> DeliveryError:
    aws = client("connect")
    with Stubber(aws) as stub:
        stub.add_client_error("start_chat_contact", code, message, status)
        with (
            pytest.raises(DeliveryError) as raised,
            translate_errors("StartChatContact", service="connect"),
        ):
            aws.start_chat_contact(
                InstanceId="i", ContactFlowId="f", ParticipantDetails={"DisplayName": "x"}
            )
    return raised.value


def send_refused(code: str, status: int, message: str, *, idempotent: bool) -> DeliveryError:
    aws = client("socialmessaging")
    with Stubber(aws) as stub:
        stub.add_client_error("send_whatsapp_message", code, message, status)
        with (
            pytest.raises(DeliveryError) as raised,
            translate_errors(
                "SendWhatsAppMessage", service="socialmessaging", idempotent=idempotent
            ),
        ):
            aws.send_whatsapp_message(
                originationPhoneNumberId="phone-number-id-0123",
                message=b"{}",
                metaApiVersion="v20.0",
            )
    return raised.value


def test_start_chat_contact_limit_exceeded_is_capacity_not_failure() -> None:
    error = start_chat_refused("LimitExceededException", 429)
    assert type(error) is CapacityExceeded
    assert error.kind is Kind.CAPACITY


def test_start_chat_contact_limit_exceeded_naming_a_rate_is_throttling() -> None:
    error = start_chat_refused("LimitExceededException", 429, "Rate exceeded")
    assert type(error) is TransientError
    assert error.kind is Kind.THROTTLED


def test_start_chat_contact_throttling_is_transient_throttling() -> None:
    error = start_chat_refused("ThrottlingException", 429)
    assert type(error) is TransientError
    assert error.kind is Kind.THROTTLED


def test_a_throttled_send_certainly_did_not_happen_so_it_stays_retryable() -> None:
    error = send_refused("ThrottledRequestException", 429, "slow down", idempotent=False)
    assert type(error) is TransientError
    assert error.kind is Kind.THROTTLED


def test_a_server_error_on_a_send_without_token_is_unconfirmed() -> None:
    error = send_refused("InternalServiceException", 500, "oops", idempotent=False)
    assert type(error) is Unconfirmed
    assert error.kind is Kind.UNAVAILABLE


def test_a_server_error_on_a_call_with_a_token_is_transient() -> None:
    error = send_refused("InternalServiceException", 500, "oops", idempotent=True)
    assert type(error) is TransientError


def test_meta_code_in_end_user_messaging_refusal_labels_the_kind() -> None:
    message = "(#131047) Re-engagement message: more than 24 hours have passed"
    error = send_refused("ValidationException", 400, message, idempotent=False)
    assert type(error) is PermanentError
    assert error.kind is Kind.OUTSIDE_WINDOW


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (131047, Kind.OUTSIDE_WINDOW),
        ("470", Kind.OUTSIDE_WINDOW),
        (131053, Kind.MEDIA_REFUSED),
        (131026, Kind.UNDELIVERABLE),
        (130429, Kind.THROTTLED),
        (131056, Kind.THROTTLED),
        (999999, Kind.UNKNOWN),
        ("not a number", Kind.UNKNOWN),
    ],
)
def test_meta_codes_have_kinds(code: int | str, kind: Kind) -> None:
    assert meta_error_kind(code) is kind


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP endpoint that accepts connections, reads the request and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        listener.close()


def test_a_send_that_timed_out_after_leaving_is_unconfirmed(silent_server: str) -> None:
    aws = client("socialmessaging", silent_server, read_timeout=0.3, connect_timeout=1)
    with (
        pytest.raises(Unconfirmed) as raised,
        translate_errors("SendWhatsAppMessage", service="socialmessaging", idempotent=False),
    ):
        aws.send_whatsapp_message(
            originationPhoneNumberId="phone-number-id-0123", message=b"{}", metaApiVersion="v20.0"
        )
    assert raised.value.kind is Kind.TIMED_OUT


def test_a_call_with_a_token_that_timed_out_is_transient(silent_server: str) -> None:
    aws = client("connectparticipant", silent_server, read_timeout=0.3, connect_timeout=1)
    with (
        pytest.raises(TransientError) as raised,
        translate_errors("SendMessage", service="connectparticipant"),
    ):
        aws.send_message(
            ContentType="text/plain", Content="hi", ClientToken="t", ConnectionToken="c"
        )
    assert raised.value.kind is Kind.TIMED_OUT


def test_a_connection_never_made_is_transient_even_for_a_send() -> None:
    # A port bound and not listening refuses connections, and no other process can take it.
    with socket.socket() as unlistened:
        unlistened.bind(("127.0.0.1", 0))
        port = unlistened.getsockname()[1]
        aws = client("socialmessaging", f"http://127.0.0.1:{port}", connect_timeout=1)
        with (
            pytest.raises(TransientError) as raised,
            translate_errors("SendWhatsAppMessage", service="socialmessaging", idempotent=False),
        ):
            aws.send_whatsapp_message(
                originationPhoneNumberId="phone-number-id-0123",
                message=b"{}",
                metaApiVersion="v20.0",
            )
    assert raised.value.kind is Kind.NOT_CONNECTED
