"""What any client of the emulators can rely on, as AWS and WhatsApp behave: each test here
fails on an emulator that accepts too much or answers differently from the service model."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.emulators.conftest import NO_RETRY, WAIT_SECONDS, Chat
from tests.emulators.samples import JPEG_BYTES
from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud


def _send(cloud: Cloud, body: dict[str, Any]) -> str:
    sent = cloud.client("socialmessaging", **NO_RETRY).send_whatsapp_message(
        originationPhoneNumberId=defaults.PHONE_NUMBER_ARN,
        message=json.dumps({"messaging_product": "whatsapp", **body}).encode(),
        metaApiVersion="v20.0",
    )
    return str(sent["messageId"])


def _statuses(cloud: Cloud, wamid: str) -> list[dict[str, Any]]:
    assert cloud.settle(WAIT_SECONDS), "the cloud did not settle"
    found = []
    for envelope in cloud.inbound_topic.delivered:
        entry = json.loads(json.loads(json.loads(envelope)["Message"])["whatsAppWebhookEntry"])
        for change in entry["changes"]:
            found += [s for s in change["value"].get("statuses", []) if s["id"] == wamid]
    return found


@pytest.mark.parametrize("written", ["+15550100701", "+1 555-010-0701", "1 (555) 010-0701"])
def test_a_number_written_with_a_plus_or_spaces_is_the_same_customer(
    fresh_cloud: Cloud, written: str
) -> None:
    customer = Customer(wa_id="15550100701", name="Dee")
    fresh_cloud.customer_sends(customer, {"type": "text", "text": {"body": "hi"}})
    wamid = _send(fresh_cloud, {"to": written, "type": "text", "text": {"body": "hello"}})
    # Inside the customer's 24-hour window: delivered, to them, as wa_id 15550100701.
    assert fresh_cloud.message_status(wamid) == "delivered"
    assert [m["text"]["body"] for m in fresh_cloud.received_messages(customer.identity)] == [
        "hello"
    ]
    assert {s["recipient_id"] for s in _statuses(fresh_cloud, wamid)} == {"15550100701"}


def test_get_media_with_both_destinations_answers_the_models_error(cloud: Cloud) -> None:
    media_id = cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.InvalidParametersException):
        client.get_whatsapp_message_media(
            mediaId=media_id,
            originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
            destinationS3File={"bucketName": defaults.MEDIA_BUCKET, "key": "in/"},
            destinationS3PresignedUrl={
                "url": "https://bucket.s3.us-east-1.amazonaws.com/in/x",
                "headers": {},
            },
        )


def test_an_agent_file_named_outside_latin_1_downloads_under_its_name(chat: Chat) -> None:
    name = "Счёт-2026.pdf"
    pdf = b"%PDF-1.4\n% a small invoice\n%%EOF\n"
    attachment_id = chat.cloud.agent_sends_file(chat.contact_id, pdf, name, "application/pdf")
    got = chat.participant.get_attachment(
        ConnectionToken=chat.connection_token, AttachmentId=attachment_id
    )
    response = chat.cloud.fetch("GET", got["Url"])
    assert response.status_code == 200
    assert response.content == pdf
    disposition = response.headers["content-disposition"]
    assert "filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82-2026.pdf" in disposition


def test_a_lone_surrogate_in_a_profile_name_is_refused_not_a_server_error(cloud: Cloud) -> None:
    connect = cloud.client("connect", **NO_RETRY)
    with pytest.raises(connect.exceptions.InvalidParameterException) as refused:
        connect.start_chat_contact(
            InstanceId=defaults.INSTANCE_ID,
            ContactFlowId=defaults.CONTACT_FLOW_ID,
            ParticipantDetails={"DisplayName": "Ana \ud800"},
            ClientToken="lone-surrogate",
        )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _send_message(chat: Chat, content: str, content_type: str = "text/plain") -> Any:
    return chat.participant.send_message(
        ConnectionToken=chat.connection_token,
        ContentType=content_type,
        Content=content,
        ClientToken=f"limit-{len(content)}-{len(content.encode())}-{content_type}",
    )


def test_send_message_takes_up_to_16384_bytes_of_any_content_type(chat: Chat) -> None:
    # Longer than the 1,024 characters older documentation gave text/plain: the model allows it.
    assert _send_message(chat, "a" * 2000)["Id"]
    assert _send_message(chat, "b" * 16384)["Id"]
    with pytest.raises(chat.participant.exceptions.ValidationException, match="16384"):
        _send_message(chat, "c" * 16385)


def test_send_message_counts_bytes_not_characters(chat: Chat) -> None:
    # 5,462 euro signs: 5,462 characters but 16,386 bytes of UTF-8.
    with pytest.raises(chat.participant.exceptions.ValidationException, match="16386 bytes"):
        _send_message(chat, "€" * 5462)
    assert _send_message(chat, "€" * 5461)["Id"]


def test_start_chat_contact_counts_the_initial_message_in_bytes(cloud: Cloud) -> None:
    connect = cloud.client("connect", **NO_RETRY)
    common: dict[str, Any] = {
        "InstanceId": defaults.INSTANCE_ID,
        "ContactFlowId": defaults.CONTACT_FLOW_ID,
        "ParticipantDetails": {"DisplayName": "Eve"},
    }
    started = connect.start_chat_contact(
        **common,
        InitialMessage={"ContentType": "text/plain", "Content": "x" * 3000},
        ClientToken="initial-long",
    )
    assert started["ContactId"]
    with pytest.raises(connect.exceptions.InvalidParameterException):
        connect.start_chat_contact(
            **common,
            InitialMessage={"ContentType": "text/plain", "Content": "€" * 5462},
            ClientToken="initial-too-long",
        )


def _window(cloud: Cloud, wa_id: str) -> None:
    cloud.customer_sends(Customer(wa_id=wa_id), {"type": "text", "text": {"body": "hi"}})


def test_a_send_by_link_is_fetched_and_delivered_as_that_file(fresh_cloud: Cloud) -> None:
    _window(fresh_cloud, "15550100711")
    s3 = fresh_cloud.client("s3")
    s3.put_object(
        Bucket=defaults.MEDIA_BUCKET, Key="out/photo.jpg", Body=JPEG_BYTES, ContentType="image/jpeg"
    )
    link = s3.generate_presigned_url(
        "get_object", Params={"Bucket": defaults.MEDIA_BUCKET, "Key": "out/photo.jpg"}
    )
    seq = fresh_cloud.journal.seq
    wamid = _send(fresh_cloud, {"to": "15550100711", "type": "image", "image": {"link": link}})
    assert fresh_cloud.message_status(wamid) == "delivered"
    [delivered] = [e for e in fresh_cloud.journal.since(seq) if e["to"] == "customer"]
    assert delivered["sha256"] == hashlib.sha256(JPEG_BYTES).hexdigest()
    assert delivered["size"] == len(JPEG_BYTES)


@pytest.mark.parametrize(
    "link",
    [
        pytest.param("https://example.com/photo.jpg", id="a-host-the-sandbox-cannot-reach"),
        pytest.param("http://127.0.0.1:9/photo.jpg", id="nothing-listening"),
    ],
)
def test_a_link_whatsapp_cannot_fetch_fails_with_its_error(fresh_cloud: Cloud, link: str) -> None:
    _window(fresh_cloud, "15550100712")
    seq = fresh_cloud.journal.seq
    wamid = _send(fresh_cloud, {"to": "15550100712", "type": "image", "image": {"link": link}})
    assert fresh_cloud.message_status(wamid) == "failed"
    assert [e["kind"] for e in fresh_cloud.journal.since(seq)] == ["failed"]
    [failed] = [s for s in _statuses(fresh_cloud, wamid) if s["status"] == "failed"]
    assert failed["errors"][0]["code"] == 131053


def test_a_link_to_a_file_of_another_kind_fails(fresh_cloud: Cloud) -> None:
    _window(fresh_cloud, "15550100713")
    s3 = fresh_cloud.client("s3")
    s3.put_object(
        Bucket=defaults.MEDIA_BUCKET, Key="out/notes.txt", Body=b"text", ContentType="text/plain"
    )
    link = s3.generate_presigned_url(
        "get_object", Params={"Bucket": defaults.MEDIA_BUCKET, "Key": "out/notes.txt"}
    )
    wamid = _send(fresh_cloud, {"to": "15550100713", "type": "image", "image": {"link": link}})
    assert fresh_cloud.message_status(wamid) == "failed"
