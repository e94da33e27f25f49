from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest

from tests.emulators.conftest import NO_RETRY, WAIT_SECONDS
from tests.emulators.samples import JPEG_BYTES, tone_ogg_opus, tone_wav
from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.cloud import Cloud

CUSTOMER = "15550100301"


def _send(cloud: Cloud, body: dict[str, Any], origination: str = defaults.PHONE_NUMBER_ARN) -> str:
    client = cloud.client("socialmessaging", **NO_RETRY)
    sent = client.send_whatsapp_message(
        originationPhoneNumberId=origination,
        message=json.dumps({"messaging_product": "whatsapp", **body}).encode(),
        metaApiVersion="v20.0",
    )
    return str(sent["messageId"])


def _upload(cloud: Cloud, data: bytes, key: str, content_type: str) -> str:
    cloud.client("s3").put_object(
        Bucket=defaults.MEDIA_BUCKET, Key=key, Body=data, ContentType=content_type
    )
    client = cloud.client("socialmessaging", **NO_RETRY)
    posted = client.post_whatsapp_message_media(
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        sourceS3File={"bucketName": defaults.MEDIA_BUCKET, "key": key},
    )
    return str(posted["mediaId"])


def test_customer_media_round_trips_through_s3_and_back_to_whatsapp(cloud: Cloud) -> None:
    media_id = cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    got = client.get_whatsapp_message_media(
        mediaId=media_id,
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        destinationS3File={"bucketName": defaults.MEDIA_BUCKET, "key": "inbound/"},
    )
    assert (got["mimeType"], got["fileSize"]) == ("image/jpeg", len(JPEG_BYTES))
    s3 = cloud.client("s3")
    key = f"inbound/{media_id}.jpeg"
    assert s3.get_object(Bucket=defaults.MEDIA_BUCKET, Key=key)["Body"].read() == JPEG_BYTES
    posted = client.post_whatsapp_message_media(
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        sourceS3File={"bucketName": defaults.MEDIA_BUCKET, "key": key},
    )
    seq = cloud.journal.seq
    _send(cloud, {"to": CUSTOMER, "type": "image", "image": {"id": posted["mediaId"]}})
    assert cloud.journal.since(seq) == [
        {
            "to": "customer",
            "kind": "image",
            "customer": CUSTOMER,
            "content_type": "image/jpeg",
            "size": len(JPEG_BYTES),
            "sha256": hashlib.sha256(JPEG_BYTES).hexdigest(),
        }
    ]


def test_metadata_only_writes_nothing(cloud: Cloud) -> None:
    media_id = cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    got = client.get_whatsapp_message_media(
        mediaId=media_id,
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        metadataOnly=True,
        destinationS3File={"bucketName": defaults.MEDIA_BUCKET, "key": "meta-only/"},
    )
    assert got["fileSize"] == len(JPEG_BYTES)
    listed = cloud.client("s3").list_objects_v2(Bucket=defaults.MEDIA_BUCKET, Prefix="meta-only/")
    assert listed["KeyCount"] == 0


def test_presigned_urls_work_both_ways(cloud: Cloud) -> None:
    s3 = cloud.client("s3")
    media_id = cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": defaults.MEDIA_BUCKET, "Key": "presigned/in.jpeg"}
    )
    client = cloud.client("socialmessaging", **NO_RETRY)
    client.get_whatsapp_message_media(
        mediaId=media_id,
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        destinationS3PresignedUrl={"url": put_url, "headers": {}},
    )
    get_url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": defaults.MEDIA_BUCKET, "Key": "presigned/in.jpeg"}
    )
    assert httpx.get(get_url, timeout=60).content == JPEG_BYTES
    posted = client.post_whatsapp_message_media(
        originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
        sourceS3PresignedUrl={"url": get_url, "headers": {}},
    )
    assert cloud.media_bytes(posted["mediaId"]) == JPEG_BYTES


def test_unknown_media_id_is_resource_not_found(cloud: Cloud) -> None:
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_whatsapp_message_media(
            mediaId="999", originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID, metadataOnly=True
        )


def test_unknown_origination_number_is_resource_not_found(cloud: Cloud) -> None:
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.send_whatsapp_message(
            originationPhoneNumberId="phone-number-id-00000000000000000000000000000000",
            message=b'{"messaging_product":"whatsapp","to":"1","text":{"body":"x"}}',
            metaApiVersion="v20.0",
        )


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"to": CUSTOMER, "type": "text", "text": {"body": "x" * 4097}}, id="long"),
        pytest.param({"to": CUSTOMER, "type": "text", "text": {}}, id="no-body"),
        pytest.param({"type": "text", "text": {"body": "hi"}}, id="no-recipient"),
        pytest.param({"to": CUSTOMER, "type": "image", "image": {"id": "1"}}, id="foreign-media"),
        pytest.param({"to": CUSTOMER, "type": "reaction", "reaction": {"emoji": "👍"}},
                     id="reaction-without-message"),
        pytest.param({"status": "delivered", "message_id": "wamid.x"}, id="status-not-read"),
        pytest.param({"status": "read", "message_id": "wamid.x",
                      "typing_indicator": {"type": "audio"}}, id="bad-typing"),
        pytest.param({"to": CUSTOMER, "type": "template", "template": {"name": "hello"}},
                     id="template-without-language"),
    ],
)  # fmt: skip
def test_send_refuses_bodies_whatsapp_refuses(cloud: Cloud, body: dict[str, Any]) -> None:
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.InvalidParametersException):
        _send(cloud, body)


def test_media_uploaded_by_another_number_cannot_be_sent(cloud: Cloud) -> None:
    cloud.customer_sends(Customer(wa_id=CUSTOMER), {"type": "text", "text": {"body": "hi"}},
                         business="100000000000999")  # fmt: skip
    # Sending on behalf of another business number makes the emulator know that number.
    (other,) = (n for n in cloud.whatsapp_view.numbers() if n.meta_id == "100000000000999")
    media_id = _upload(cloud, JPEG_BYTES, "outbound/a.jpeg", "image/jpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.InvalidParametersException):
        _send(cloud, {"to": CUSTOMER, "type": "image", "image": {"id": media_id}}, other.arn)


def test_voice_note_must_be_ogg_opus(cloud: Cloud) -> None:
    wav_id = _upload(cloud, tone_wav(1.0), "outbound/v.wav", "audio/mpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.InvalidParametersException):
        _send(cloud, {"to": CUSTOMER, "type": "audio", "audio": {"id": wav_id, "voice": True}})
    ogg = tone_ogg_opus(1.0)
    ogg_id = _upload(cloud, ogg, "outbound/v.ogg", "audio/ogg")
    seq = cloud.journal.seq
    _send(cloud, {"to": CUSTOMER, "type": "audio", "audio": {"id": ogg_id, "voice": True}})
    (effect,) = cloud.journal.since(seq)
    assert (effect["kind"], effect["size"], effect["duration"]) == ("audio", len(ogg), 1.01)


def test_upload_of_a_type_whatsapp_refuses_is_a_validation_exception(cloud: Cloud) -> None:
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ValidationException):
        _upload(cloud, b"MZ\x90\x00", "outbound/tool.exe", "application/x-msdownload")


def test_reaction_read_and_typing_are_journaled_with_the_customer(cloud: Cloud) -> None:
    customer = Customer(wa_id=CUSTOMER, user_id="US.5550100301", name="Ana")
    wamid = cloud.customer_sends(customer, {"type": "text", "text": {"body": "hello"}})
    seq = cloud.journal.seq
    _send(cloud, {"status": "read", "message_id": wamid})
    _send(cloud, {"status": "read", "message_id": wamid, "typing_indicator": {"type": "text"}})
    _send(cloud, {"recipient": "US.5550100301", "type": "reaction",
                  "reaction": {"message_id": wamid, "emoji": "📎"}})  # fmt: skip
    assert cloud.journal.since(seq) == [
        {"to": "customer", "kind": "read", "customer": "US.5550100301", "reply_to": wamid},
        {"to": "customer", "kind": "typing", "customer": "US.5550100301", "reply_to": wamid},
        {"to": "customer", "kind": "reaction", "customer": "US.5550100301", "emoji": "📎",
         "reply_to": wamid},
    ]  # fmt: skip


def test_customer_message_is_published_as_an_eum_notification(fresh_cloud: Cloud) -> None:
    received: list[str] = []
    fresh_cloud.inbound_topic.subscribe(received.append)
    media_id = fresh_cloud.register_media("1234", JPEG_BYTES, "image/jpeg")
    customer = Customer(wa_id="", user_id="US.5550100302", name="Bea")
    wamid = fresh_cloud.customer_sends(customer, {"type": "image", "image": {"id": media_id}})
    assert fresh_cloud.settle(WAIT_SECONDS)
    (envelope,) = (json.loads(text) for text in received)
    notification = json.loads(envelope["Message"])
    assert notification["context"]["MetaPhoneNumberIds"][0]["arn"] == defaults.PHONE_NUMBER_ARN
    entry = json.loads(notification["whatsAppWebhookEntry"])
    value = entry["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == defaults.META_PHONE_NUMBER_ID
    assert value["contacts"] == [
        {"profile": {"name": "Bea"}, "wa_id": "", "user_id": "US.5550100302"}
    ]
    (message,) = value["messages"]
    assert (message["id"], message["from_user_id"], message["type"]) == (
        wamid,
        "US.5550100302",
        "image",
    )
    assert message["image"]["sha256"] == hashlib.sha256(JPEG_BYTES).hexdigest()
    assert fresh_cloud.customer_sends(customer, {"type": "text", "text": {"body": "again"}},
                                      wamid=wamid) == wamid  # fmt: skip


def _fetch_metadata(cloud: Cloud, media_id: str, origination: str) -> int:
    client = cloud.client("socialmessaging", **NO_RETRY)
    got = client.get_whatsapp_message_media(
        mediaId=media_id, originationPhoneNumberId=origination, metadataOnly=True
    )
    return int(got["fileSize"])


def test_customer_media_is_readable_only_through_the_number_that_received_it(
    fresh_cloud: Cloud,
) -> None:
    other_meta_id = "105550100999"
    media_id = fresh_cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    customer = Customer(wa_id="15550100311", name="Cy")
    fresh_cloud.customer_sends(
        customer, {"type": "image", "image": {"id": media_id}}, business=other_meta_id
    )
    assert fresh_cloud.settle(WAIT_SECONDS)
    (other,) = (n for n in fresh_cloud.whatsapp_view.numbers() if n.meta_id == other_meta_id)
    assert _fetch_metadata(fresh_cloud, media_id, other.arn) == len(JPEG_BYTES)
    client = fresh_cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        _fetch_metadata(fresh_cloud, media_id, defaults.AWS_PHONE_NUMBER_ID)


def test_registered_customer_media_belongs_to_the_sandbox_number_by_default(
    fresh_cloud: Cloud,
) -> None:
    elsewhere = fresh_cloud.register_media(None, JPEG_BYTES, "image/jpeg", business="105550100998")
    here = fresh_cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    assert _fetch_metadata(fresh_cloud, here, defaults.AWS_PHONE_NUMBER_ID) == len(JPEG_BYTES)
    client = fresh_cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        _fetch_metadata(fresh_cloud, elsewhere, defaults.AWS_PHONE_NUMBER_ID)


@pytest.mark.parametrize(
    ("media_id", "origination"),
    [
        pytest.param("media-1!", defaults.AWS_PHONE_NUMBER_ID, id="media-id-not-alphanumeric"),
        pytest.param("1234", "15550100000", id="display-number-instead-of-an-id"),
        pytest.param("1234", "arn:aws:social-messaging:us-east-1:123456789012:waba/1",
                     id="arn-of-something-else"),
    ],
)  # fmt: skip
def test_ids_that_break_the_model_patterns_are_refused(
    cloud: Cloud, media_id: str, origination: str
) -> None:
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ValidationException, match="pattern"):
        client.get_whatsapp_message_media(
            mediaId=media_id, originationPhoneNumberId=origination, metadataOnly=True
        )


def test_presigned_url_that_is_neither_s3_nor_the_sandbox_is_refused(cloud: Cloud) -> None:
    media_id = cloud.register_media(None, JPEG_BYTES, "image/jpeg")
    client = cloud.client("socialmessaging", **NO_RETRY)
    with pytest.raises(client.exceptions.ValidationException, match="pattern"):
        client.get_whatsapp_message_media(
            mediaId=media_id,
            originationPhoneNumberId=defaults.AWS_PHONE_NUMBER_ID,
            destinationS3PresignedUrl={"url": "https://files.example.com/in.jpeg", "headers": {}},
        )
