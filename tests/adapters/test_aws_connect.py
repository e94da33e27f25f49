"""AwsConnectChat with botocore's Stubber: the exact parameters of every Connect call."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from tests.fakes import FakeClock, InMemoryMediaStore

from waconnect.adapters.aws.connect import AwsConnectChat, derived_token, masked_display_name
from waconnect.adapters.transfers import SignedUrlTransfers
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError, SessionEnded, TransientError

INSTANCE_ID = "11111111-2222-4333-8444-555555555555"
FLOW_ID = "66666666-7777-4888-8999-aaaaaaaaaaaa"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:waconnect-connect-streaming"
BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    waba_id="200000000000001",
    aws_phone_number_id="phone-number-id-0123456789abcdef0123456789abcdef",
)
CUSTOMER = Customer(wa_id="15550101234", user_id="US.1234567890", name="Ada  Lovelace")
UPLOAD_URL = "https://example-bucket.s3.us-east-1.amazonaws.com/connect/upload/att-1?X-Amz-Sig=1"
DOWNLOAD_URL = "https://example-bucket.s3.us-east-1.amazonaws.com/connect/att-9?X-Amz-Sig=2"


def client(service: str) -> Any:
    session = boto3.session.Session(
        aws_access_key_id="AKIDTESTEXAMPLE",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )
    return session.client(service, config=Config(retries={"total_max_attempts": 1}))


class Harness:
    """The adapter over stubbed clients, an in-memory store and a recording HTTP transport."""

    def __init__(self, **options: Any) -> None:
        self.connect_client = client("connect")
        self.participant_client = client("connectparticipant")
        self.connect = Stubber(self.connect_client)
        self.participant = Stubber(self.participant_client)
        self.store = InMemoryMediaStore(chunk_size=1000)
        self.requests: list[tuple[httpx.Request, bytes]] = []
        self.download = b""
        http = httpx.Client(transport=httpx.MockTransport(self._serve))
        self.chat = AwsConnectChat(
            self.connect_client,
            self.participant_client,
            SignedUrlTransfers(http),
            self.store,
            instance_id=INSTANCE_ID,
            contact_flow_id=FLOW_ID,
            streaming_topic_arn=TOPIC_ARN,
            clock=FakeClock(),
            **options,
        )

    def _serve(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request, request.read()))
        if request.method == "GET":
            return httpx.Response(200, content=self.download)
        return httpx.Response(200)

    def done(self) -> None:
        self.connect.assert_no_pending_responses()
        self.participant.assert_no_pending_responses()


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    with h.connect, h.participant:
        yield h
    h.done()


def expect_start(h: Harness, *, token: str, display_name: str, attributes: dict[str, str]) -> None:
    h.connect.add_response(
        "start_chat_contact",
        {"ContactId": "contact-1", "ParticipantId": "participant-1", "ParticipantToken": "ptok-1"},
        {
            "InstanceId": INSTANCE_ID,
            "ContactFlowId": FLOW_ID,
            "ParticipantDetails": {"DisplayName": display_name},
            "Attributes": attributes,
            "ClientToken": token,
            "ChatDurationInMinutes": 1500,
            "SupportedMessagingContentTypes": ["text/plain", "text/markdown"],
        },
    )
    h.connect.add_response(
        "start_contact_streaming",
        {"StreamingId": "streaming-1"},
        {
            "InstanceId": INSTANCE_ID,
            "ContactId": "contact-1",
            "ChatStreamingConfiguration": {"StreamingEndpointArn": TOPIC_ARN},
            "ClientToken": derived_token(token, "streaming"),
        },
    )


def test_start_chat_passes_the_client_token_and_streams_with_a_derived_one(
    harness: Harness,
) -> None:
    expect_start(
        harness,
        token="start:wamid.HBgLMTU1NTAxMDEyMzQ",
        display_name="Ada Lovelace",
        attributes={
            "channel": "WhatsApp",
            "customer_identity": "US.1234567890",
            "wa_id": "15550101234",
            "wa_user_id": "US.1234567890",
            "customer_name": "Ada  Lovelace",
            "business_phone_number": "15550000000",
            "business_phone_number_id": "100000000000001",
            "waba_id": "200000000000001",
        },
    )
    chat = harness.chat.start_chat(
        business=BUSINESS, customer=CUSTOMER, client_token="start:wamid.HBgLMTU1NTAxMDEyMzQ"
    )
    assert (chat.contact_id, chat.participant_id, chat.participant_token) == (
        "contact-1",
        "participant-1",
        "ptok-1",
    )
    assert derived_token("start:wamid.HBgLMTU1NTAxMDEyMzQ", "streaming") == (
        "start:wamid.HBgLMTU1NTAxMDEyMzQ:streaming"
    )


def test_start_chat_without_a_name_shows_a_masked_number_and_extra_attributes() -> None:
    h = Harness(attributes={"queue": "whatsapp-support"})
    with h.connect, h.participant:
        expect_start(
            h,
            token="t-1",
            display_name="WhatsApp +…1234",
            attributes={
                "queue": "whatsapp-support",
                "channel": "WhatsApp",
                "customer_identity": "15550101234",
                "wa_id": "15550101234",
                "business_phone_number": "15550000000",
                "business_phone_number_id": "100000000000001",
                "waba_id": "200000000000001",
            },
        )
        h.chat.start_chat(
            business=BUSINESS, customer=Customer(wa_id="15550101234"), client_token="t-1"
        )
    h.done()


def test_display_name_is_cut_to_connects_256_characters() -> None:
    assert len(masked_display_name(Customer(wa_id="15550101234", name="x" * 300))) == 256
    assert masked_display_name(Customer(wa_id="", user_id="US.1")) == "WhatsApp customer"


def test_a_derived_token_stays_within_500_characters_and_is_stable() -> None:
    long = "t" * 500
    assert len(derived_token(long, "streaming")) <= 500
    assert derived_token(long, "streaming") == derived_token(long, "streaming")
    assert derived_token(long, "streaming") != derived_token(long, "complete")


def test_connect_asks_for_connection_credentials_and_reads_the_iso_expiry(
    harness: Harness,
) -> None:
    harness.participant.add_response(
        "create_participant_connection",
        {
            "ConnectionCredentials": {
                "ConnectionToken": "ctok-1",
                "Expiry": "2026-11-25T10:00:00.000Z",
            }
        },
        {
            "Type": ["CONNECTION_CREDENTIALS"],
            "ParticipantToken": "ptok-1",
            "ConnectParticipant": True,
        },
    )
    connection = harness.chat.connect("ptok-1")
    assert connection.token == "ctok-1"
    assert connection.expiry == datetime(2026, 11, 25, 10, 0, tzinfo=UTC).timestamp()


def test_connect_with_a_refused_participant_token_means_the_session_ended(
    harness: Harness,
) -> None:
    harness.participant.add_client_error(
        "create_participant_connection", "AccessDeniedException", "expired", 403
    )
    with pytest.raises(SessionEnded):
        harness.chat.connect("ptok-old")


def test_send_message_is_plain_text_with_the_given_client_token(harness: Harness) -> None:
    harness.participant.add_response(
        "send_message",
        {"Id": "msg-1", "AbsoluteTime": "2026-11-24T10:00:00.000Z"},
        {
            "ContentType": "text/plain",
            "Content": "Hello, I need help",
            "ClientToken": "msg:wamid.A",
            "ConnectionToken": "ctok-1",
        },
    )
    assert (
        harness.chat.send_message("ctok-1", text="Hello, I need help", client_token="msg:wamid.A")
        == "msg-1"
    )


def test_send_event_passes_content_type_content_and_client_token(harness: Harness) -> None:
    harness.participant.add_response(
        "send_event",
        {"Id": "ev-1"},
        {
            "ContentType": "application/vnd.amazonaws.connect.event.message.read",
            "Content": '{"messageId":"msg-1"}',
            "ClientToken": "read:wamid.B",
            "ConnectionToken": "ctok-1",
        },
    )
    harness.participant.add_response(
        "send_event",
        {"Id": "ev-2"},
        {
            "ContentType": "application/vnd.amazonaws.connect.event.typing",
            "ClientToken": "typing:1",
            "ConnectionToken": "ctok-1",
        },
    )
    assert (
        harness.chat.send_event(
            "ctok-1",
            content_type="application/vnd.amazonaws.connect.event.message.read",
            content='{"messageId":"msg-1"}',
            client_token="read:wamid.B",
        )
        == "ev-1"
    )
    assert (
        harness.chat.send_event(
            "ctok-1",
            content_type="application/vnd.amazonaws.connect.event.typing",
            content="",
            client_token="typing:1",
        )
        == "ev-2"
    )


def test_send_attachment_declares_the_exact_size_and_streams_the_stored_file(
    harness: Harness,
) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40
    stored = harness.store.put("in/contact-1/doc", [data], content_type="application/pdf")
    harness.participant.add_response(
        "start_attachment_upload",
        {
            "AttachmentId": "att-1",
            "UploadMetadata": {
                "Url": UPLOAD_URL,
                "UrlExpiry": "2026-11-24T10:05:00.000Z",
                "HeadersToInclude": {"Content-Type": "application/pdf", "x-amz-acl": "private"},
            },
        },
        {
            "ContentType": "application/pdf",
            "AttachmentSizeInBytes": len(data),
            "AttachmentName": "invoice.pdf",
            "ClientToken": "file:wamid.C",
            "ConnectionToken": "ctok-1",
        },
    )
    harness.participant.add_response(
        "complete_attachment_upload",
        {},
        {
            "AttachmentIds": ["att-1"],
            "ClientToken": "file:wamid.C:complete",
            "ConnectionToken": "ctok-1",
        },
    )
    attachment_id = harness.chat.send_attachment(
        "ctok-1", stored, name="invoice.pdf", client_token="file:wamid.C"
    )
    assert attachment_id == "att-1"
    ((request, body),) = harness.requests
    assert (request.method, str(request.url)) == ("PUT", UPLOAD_URL)
    assert request.headers["Content-Length"] == str(len(data))
    assert request.headers["Content-Type"] == "application/pdf"
    assert request.headers["x-amz-acl"] == "private"
    assert body == data


def test_send_attachment_to_a_url_off_the_allowlist_is_refused_before_completing(
    harness: Harness,
) -> None:
    stored = harness.store.put("k", [b"abc"], content_type="text/plain")
    harness.participant.add_response(
        "start_attachment_upload",
        {
            "AttachmentId": "att-2",
            "UploadMetadata": {"Url": "https://evil.example/x", "HeadersToInclude": {}},
        },
        {
            "ContentType": "text/plain",
            "AttachmentSizeInBytes": 3,
            "AttachmentName": "a.txt",
            "ClientToken": "tok",
            "ConnectionToken": "ctok-1",
        },
    )
    with pytest.raises(PermanentError):
        harness.chat.send_attachment("ctok-1", stored, name="a.txt", client_token="tok")
    assert harness.requests == []


def test_a_refused_attachment_type_is_permanent(harness: Harness) -> None:
    stored = harness.store.put("k", [b"OggS"], content_type="audio/ogg")
    harness.participant.add_client_error(
        "start_attachment_upload", "ValidationException", "file type not allowed", 400
    )
    with pytest.raises(PermanentError) as raised:
        harness.chat.send_attachment("ctok-1", stored, name="voice.ogg", client_token="tok")
    assert raised.value.code == "ValidationException"


def test_get_attachment_streams_the_file_into_the_store_under_the_key(harness: Harness) -> None:
    harness.download = b"\x89PNG\r\n\x1a\n" + b"pixels" * 500
    harness.participant.add_response(
        "get_attachment",
        {
            "Url": DOWNLOAD_URL,
            "UrlExpiry": "2026-11-24T10:01:00.000Z",
            "AttachmentSizeInBytes": len(harness.download),
        },
        {"AttachmentId": "att-9", "ConnectionToken": "ctok-1", "UrlExpiryInSeconds": 60},
    )
    downloaded = harness.chat.get_attachment(
        "ctok-1", "att-9", name="photo.png", content_type="image/png", key="out/contact-1/att-9"
    )
    assert downloaded.name == "photo.png"
    assert downloaded.stored.key == "out/contact-1/att-9"
    assert downloaded.stored.content_type == "image/png"
    assert downloaded.stored.filename == "photo.png"
    assert downloaded.stored.sha256 == hashlib.sha256(harness.download).hexdigest()
    assert harness.store.data("out/contact-1/att-9") == harness.download


def test_get_attachment_refuses_a_download_shorter_than_connect_announced(
    harness: Harness,
) -> None:
    harness.download = b"truncated"
    harness.participant.add_response(
        "get_attachment",
        {"Url": DOWNLOAD_URL, "UrlExpiry": "2026-11-24T10:01:00.000Z", "AttachmentSizeInBytes": 99},
        {"AttachmentId": "att-9", "ConnectionToken": "ctok-1", "UrlExpiryInSeconds": 60},
    )
    with pytest.raises(PermanentError):
        harness.chat.get_attachment(
            "ctok-1", "att-9", name="a.png", content_type="image/png", key="out/k"
        )


def test_disconnect_passes_the_client_token(harness: Harness) -> None:
    harness.participant.add_response(
        "disconnect_participant", {}, {"ClientToken": "bye:1", "ConnectionToken": "ctok-1"}
    )
    harness.chat.disconnect("ctok-1", client_token="bye:1")


def test_throttled_send_is_transient_and_an_ended_chat_is_session_ended(harness: Harness) -> None:
    harness.participant.add_client_error("send_message", "ThrottlingException", "slow down", 429)
    harness.participant.add_client_error("send_message", "AccessDeniedException", "ended", 403)
    with pytest.raises(TransientError):
        harness.chat.send_message("ctok-1", text="a", client_token="m1")
    with pytest.raises(SessionEnded):
        harness.chat.send_message("ctok-1", text="a", client_token="m1")
