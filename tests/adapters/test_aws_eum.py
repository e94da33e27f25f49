"""EumWhatsApp with botocore's Stubber: the exact End User Messaging calls, and the wire body."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from tests.fakes import InMemoryMediaStore

from waconnect.adapters.aws.eum import EumWhatsApp
from waconnect.domain.outgoing import MediaKind, OutgoingMedia, OutgoingText, ReadReceipt
from waconnect.domain.whatsapp import BusinessNumber, Customer, Media
from waconnect.errors import PermanentError, TransientError

PHONE_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001",
    display_phone_number="15550000000",
    aws_phone_number_id=PHONE_ID,
)
CUSTOMER = Customer(wa_id="15550101234")
BUCKET = "example-media-bucket"


class Harness:
    def __init__(self, *, prefix: str = "", phone_numbers: dict[str, str] | None = None) -> None:
        session = boto3.session.Session(
            aws_access_key_id="AKIDTESTEXAMPLE",
            aws_secret_access_key="test-secret",
            region_name="us-east-1",
        )
        self.client = session.client(
            "socialmessaging", config=Config(retries={"total_max_attempts": 1})
        )
        self.stub = Stubber(self.client)
        self.store = InMemoryMediaStore()
        self.wire: list[dict[str, Any]] = []
        # What botocore would put on the wire, captured just before the stub answers.
        self.client.meta.events.register("before-call.*.*", self._capture)
        self.whatsapp = EumWhatsApp(
            self.client,
            self.store,
            s3_bucket=BUCKET,
            s3_prefix=prefix,
            phone_numbers=phone_numbers,
        )

    def _capture(self, params: dict[str, Any], **_: Any) -> None:
        self.wire.append(params)


@pytest.fixture
def harness() -> Iterator[Harness]:
    h = Harness()
    with h.stub:
        yield h
    h.stub.assert_no_pending_responses()


def test_send_passes_the_meta_body_as_json_bytes_base64_encoded_on_the_wire(
    harness: Harness,
) -> None:
    message = OutgoingText(to=CUSTOMER, text="Olá! Your order ✅ shipped", reply_to="wamid.IN1")
    expected_body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "15550101234",
        "type": "text",
        "text": {"body": "Olá! Your order ✅ shipped", "preview_url": False},
        "context": {"message_id": "wamid.IN1"},
    }
    harness.stub.add_response(
        "send_whatsapp_message",
        {"messageId": "wamid.OUT1"},
        {
            "originationPhoneNumberId": PHONE_ID,
            "message": json.dumps(
                expected_body, ensure_ascii=False, separators=(",", ":")
            ).encode(),
            "metaApiVersion": "v20.0",
        },
    )
    assert harness.whatsapp.send(BUSINESS, message) == "wamid.OUT1"
    (request,) = harness.wire
    assert request["url_path"] == "/v1/whatsapp/send"
    body = json.loads(request["body"])
    assert json.loads(base64.b64decode(body["message"])) == expected_body
    assert body["originationPhoneNumberId"] == PHONE_ID


def test_send_of_a_voice_note_and_a_read_receipt_use_metas_bodies(harness: Harness) -> None:
    for _ in range(2):
        harness.stub.add_response("send_whatsapp_message", {"messageId": "wamid.X"})
    harness.whatsapp.send(
        BUSINESS, OutgoingMedia(to=CUSTOMER, kind=MediaKind.AUDIO, media_id="m1", voice=True)
    )
    harness.whatsapp.send(BUSINESS, ReadReceipt(message_id="wamid.IN2", typing=True))
    voice, receipt = (
        json.loads(base64.b64decode(json.loads(r["body"])["message"])) for r in harness.wire
    )
    assert voice["audio"] == {"id": "m1", "voice": True}
    assert receipt == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.IN2",
        "typing_indicator": {"type": "text"},
    }


def test_a_business_number_in_neither_the_event_nor_the_map_is_a_permanent_error_naming_it(
    harness: Harness,
) -> None:
    with pytest.raises(PermanentError, match="100000000000009") as raised:
        harness.whatsapp.send(
            BusinessNumber(meta_phone_number_id="100000000000009"),
            OutgoingText(to=CUSTOMER, text="hi"),
        )
    assert raised.value.code == "UnknownBusinessNumber"
    assert raised.value.operation == "SendWhatsAppMessage"


def test_a_business_number_without_an_eum_id_is_sent_from_the_mapped_id() -> None:
    # What a Meta webhook body gives: the Meta phone-number id only.
    meta_only = BusinessNumber(meta_phone_number_id="100000000000001")
    h = Harness(phone_numbers={"100000000000001": PHONE_ID})
    with h.stub:
        h.stub.add_response(
            "send_whatsapp_message",
            {"messageId": "wamid.OUT9"},
            {"originationPhoneNumberId": PHONE_ID, "message": ANY, "metaApiVersion": "v20.0"},
        )
        stored = h.store.put("out/c/a.pdf", [b"%PDF"], content_type="application/pdf")
        h.stub.add_response(
            "post_whatsapp_message_media",
            {"mediaId": "777"},
            {
                "originationPhoneNumberId": PHONE_ID,
                "sourceS3File": {"bucketName": BUCKET, "key": "out/c/a.pdf"},
            },
        )
        assert h.whatsapp.send(meta_only, OutgoingText(to=CUSTOMER, text="hi")) == "wamid.OUT9"
        assert h.whatsapp.upload_media(meta_only, stored) == "777"
    h.stub.assert_no_pending_responses()


def test_the_id_an_event_carries_wins_over_the_map() -> None:
    other = "phone-number-id-ffffffffffffffffffffffffffffffff"
    h = Harness(phone_numbers={"100000000000001": other})
    with h.stub:
        h.stub.add_response(
            "send_whatsapp_message",
            {"messageId": "wamid.OUT10"},
            {
                "originationPhoneNumberId": PHONE_ID,
                "message": json.dumps(
                    {
                        "messaging_product": "whatsapp",
                        "recipient_type": "individual",
                        "to": "15550101234",
                        "type": "text",
                        "text": {"body": "hi", "preview_url": False},
                    },
                    separators=(",", ":"),
                ).encode(),
                "metaApiVersion": "v20.0",
            },
        )
        h.whatsapp.send(BUSINESS, OutgoingText(to=CUSTOMER, text="hi"))
    h.stub.assert_no_pending_responses()


def test_fetch_media_asks_eum_to_write_under_the_key_and_finds_the_object_by_prefix() -> None:
    h = Harness(prefix="media/")
    with h.stub:
        h.stub.add_response(
            "get_whatsapp_message_media",
            {"mimeType": "image/jpeg", "fileSize": 4},
            {
                "mediaId": "1234567890",
                "originationPhoneNumberId": PHONE_ID,
                "destinationS3File": {"bucketName": BUCKET, "key": "media/in/abc/"},
            },
        )
        # EUM's write, as it lands: the media id and an extension after the key.
        h.store.put(
            "in/abc/1234567890.jpeg", [b"\xff\xd8\xff\xe0"], content_type="binary/octet-stream"
        )
        stored = h.whatsapp.fetch_media(
            BUSINESS, Media(media_id="1234567890", filename="receipt.jpg"), key="in/abc/"
        )
    h.stub.assert_no_pending_responses()
    assert stored.key == "in/abc/1234567890.jpeg"
    assert stored.content_type == "image/jpeg"
    assert stored.size == 4
    assert stored.filename == "receipt.jpg"


def test_fetch_media_that_left_no_object_is_permanent(harness: Harness) -> None:
    harness.stub.add_response("get_whatsapp_message_media", {"mimeType": "image/jpeg"})
    with pytest.raises(PermanentError, match="no object"):
        harness.whatsapp.fetch_media(BUSINESS, Media(media_id="999"), key="in/none/")


def test_fetch_media_throttled_is_transient(harness: Harness) -> None:
    harness.stub.add_client_error(
        "get_whatsapp_message_media", "ThrottledRequestException", "slow", 429
    )
    with pytest.raises(TransientError):
        harness.whatsapp.fetch_media(BUSINESS, Media(media_id="999"), key="in/k/")


def test_upload_media_points_eum_at_the_stored_object() -> None:
    h = Harness(prefix="media/")
    with h.stub:
        stored = h.store.put("out/contact-1/a.ogg", [b"OggS"], content_type="audio/ogg")
        h.stub.add_response(
            "post_whatsapp_message_media",
            {"mediaId": "555000111"},
            {
                "originationPhoneNumberId": PHONE_ID,
                "sourceS3File": {"bucketName": BUCKET, "key": "media/out/contact-1/a.ogg"},
            },
        )
        assert h.whatsapp.upload_media(BUSINESS, stored) == "555000111"
    h.stub.assert_no_pending_responses()


def test_upload_refused_by_meta_is_permanent(harness: Harness) -> None:
    stored = harness.store.put("out/x.bin", [b"x"], content_type="application/octet-stream")
    harness.stub.add_client_error(
        "post_whatsapp_message_media", "AccessDeniedByMetaException", "no", 403
    )
    with pytest.raises(PermanentError) as raised:
        harness.whatsapp.upload_media(BUSINESS, stored)
    assert raised.value.code == "AccessDeniedByMetaException"
