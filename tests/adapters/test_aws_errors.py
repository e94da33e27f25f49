"""translate_errors: each AWS error code the adapters meet lands on the right branch of the tree."""

from __future__ import annotations

import socket
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from waconnect.adapters.aws.errors import translate_errors
from waconnect.errors import DeliveryError, PermanentError, SessionEnded, TransientError

CONNECTION_TOKEN = "ctok-fake-0001"


def client(service: str, **config: Any) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="AKIDTESTEXAMPLE",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )
    return session.client(
        service, config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config)
    )


def call_failing(service: str, code: str, status: int) -> DeliveryError:
    """Make one real client call that the service answers with ``code``/``status``."""
    aws = client(service)
    with Stubber(aws) as stub:
        if service == "connectparticipant":
            stub.add_client_error("send_message", code, "refused", status)
            call = lambda: aws.send_message(  # noqa: E731
                ContentType="text/plain", Content="hi", ClientToken="t", ConnectionToken="c"
            )
        elif service == "connect":
            stub.add_client_error("start_contact_streaming", code, "refused", status)
            call = lambda: aws.start_contact_streaming(  # noqa: E731
                InstanceId="i",
                ContactId="c",
                ChatStreamingConfiguration={
                    "StreamingEndpointArn": "arn:aws:sns:us-east-1:123456789012:t"
                },
                ClientToken="t",
            )
        else:
            stub.add_client_error("send_whatsapp_message", code, "refused", status)
            call = lambda: aws.send_whatsapp_message(  # noqa: E731
                originationPhoneNumberId="phone-number-id-0123",
                message=b"{}",
                metaApiVersion="v20.0",
            )
        with pytest.raises(DeliveryError) as raised, translate_errors("Op", service=service):
            call()
    return raised.value


@pytest.mark.parametrize(
    ("service", "code", "status", "expected"),
    [
        ("connectparticipant", "AccessDeniedException", 403, SessionEnded),
        ("connect", "AccessDeniedException", 403, SessionEnded),
        ("socialmessaging", "AccessDeniedException", 403, PermanentError),
        ("socialmessaging", "AccessDeniedByMetaException", 403, PermanentError),
        ("connectparticipant", "ThrottlingException", 429, TransientError),
        ("socialmessaging", "ThrottledRequestException", 429, TransientError),
        ("connect", "LimitExceededException", 429, TransientError),
        ("connect", "TooManyRequestsException", 429, TransientError),
        ("connect", "InternalServiceException", 500, TransientError),
        ("connectparticipant", "InternalServerException", 500, TransientError),
        ("socialmessaging", "InternalServiceException", 500, TransientError),
        ("socialmessaging", "DependencyException", 502, TransientError),
        ("connectparticipant", "SomethingNewException", 503, TransientError),
        ("connectparticipant", "SomethingNewException", 429, TransientError),
        ("connectparticipant", "ValidationException", 400, PermanentError),
        ("socialmessaging", "ValidationException", 400, PermanentError),
        ("socialmessaging", "InvalidParametersException", 400, PermanentError),
        ("connect", "InvalidParameterException", 400, PermanentError),
        ("connect", "InvalidRequestException", 400, PermanentError),
        ("connect", "ResourceNotFoundException", 404, PermanentError),
        ("socialmessaging", "ResourceNotFoundException", 404, PermanentError),
        ("connectparticipant", "ConflictException", 409, PermanentError),
        ("connectparticipant", "ServiceQuotaExceededException", 402, PermanentError),
        ("connectparticipant", "SomethingNewException", 400, PermanentError),
        ("connectparticipant", "SomethingNewException", 403, SessionEnded),
        ("socialmessaging", "SomethingNewException", 403, PermanentError),
    ],
)
def test_aws_error_codes_map_to_the_error_tree(
    service: str, code: str, status: int, expected: type[DeliveryError]
) -> None:
    error = call_failing(service, code, status)
    assert type(error) is expected
    assert error.code == code
    assert error.operation == "Op"
    assert isinstance(error.__cause__, ClientError)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ProvisionedThroughputExceededException", 400, TransientError),
        ("TransactionConflictException", 400, TransientError),
        ("ThrottlingException", 400, TransientError),
        ("ConditionalCheckFailedException", 400, PermanentError),
        ("AccessDeniedException", 400, PermanentError),
    ],
)
def test_dynamodb_throttling_sent_as_400_is_still_transient(
    code: str, status: int, expected: type[DeliveryError]
) -> None:
    aws = client("dynamodb")
    with Stubber(aws) as stub:
        stub.add_client_error("get_item", code, "refused", status)
        with (
            pytest.raises(DeliveryError) as raised,
            translate_errors("GetItem", service="dynamodb"),
        ):
            aws.get_item(TableName="t", Key={"pk": {"S": "k"}})
    assert type(raised.value) is expected


def test_client_side_validation_failure_is_permanent() -> None:
    aws = client("connectparticipant")
    with pytest.raises(PermanentError) as raised, translate_errors("SendMessage", service="x"):
        aws.send_message(ContentType="text/plain", Content="", ConnectionToken="c")
    assert raised.value.code == "ParamValidation"
    assert raised.value.operation == "SendMessage"


def test_unreachable_endpoint_is_transient() -> None:
    # A port bound and not listening refuses connections, and no other process can take it.
    with socket.socket() as unlistened:
        unlistened.bind(("127.0.0.1", 0))
        port = unlistened.getsockname()[1]
        aws = boto3.session.Session(
            aws_access_key_id="AKIDTESTEXAMPLE",
            aws_secret_access_key="test-secret",
            region_name="us-east-1",
        ).client(
            "connectparticipant",
            endpoint_url=f"http://127.0.0.1:{port}",
            config=Config(retries={"total_max_attempts": 1}, connect_timeout=1, read_timeout=1),
        )
        with (
            pytest.raises(TransientError) as raised,
            translate_errors("SendMessage", service="connectparticipant"),
        ):
            aws.send_message(
                ContentType="text/plain", Content="hi", ClientToken="t", ConnectionToken="c"
            )
    assert raised.value.code == "EndpointConnectionError"


def test_httpx_timeout_is_transient() -> None:
    with pytest.raises(TransientError) as raised, translate_errors("GET", service="s3"):
        raise httpx.ReadTimeout("slow")
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)


def test_errors_that_are_not_from_the_sdk_pass_through_untouched() -> None:
    with pytest.raises(KeyError), translate_errors("Op", service="connect"):
        raise KeyError("ContactId")
