"""The WhatsApp contract: send, fetch a customer's file, upload a file, whichever implementation.

Runs over the in-memory fake and over EumWhatsApp talking to the sandbox's End User Messaging
emulator (and its S3) through real HTTP.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from tests.fakes import InMemoryMediaStore
from tests.fakes_remote import RecordingWhatsApp
from waconnect.adapters.aws.eum import EumWhatsApp
from waconnect.adapters.aws.s3 import S3MediaStore
from waconnect.domain.outgoing import MediaKind, Outgoing, OutgoingMedia, OutgoingText
from waconnect.domain.whatsapp import BusinessNumber, Customer, Media
from waconnect.errors import PermanentError
from waconnect.ports import MediaStore, WhatsApp
from waconnect.sandbox import defaults

BUSINESS = BusinessNumber(
    meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
    display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
    waba_id=defaults.WABA_ID,
    aws_phone_number_id=defaults.AWS_PHONE_NUMBER_ID,
)
CUSTOMER = Customer(wa_id="15550109876", name="Contract Customer")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


class WhatsAppSide(Protocol):
    """A WhatsApp port plus the customer's side of it."""

    whatsapp: WhatsApp
    store: MediaStore

    def customer_file(self, data: bytes, mime_type: str) -> str:
        """A file the customer sent; returns its media id."""
        ...

    def send(self, message: Outgoing) -> str: ...

    def sent(self) -> list[dict[str, Any]]:
        """What reached customers: each message's type and its type-specific part."""
        ...

    def knows(self, wamid: str) -> bool:
        """Whether WhatsApp's side holds a message with this id."""
        ...


class FakeSide:
    def __init__(self) -> None:
        self.store = InMemoryMediaStore()
        self.fake = RecordingWhatsApp(store=self.store)
        self.whatsapp: WhatsApp = self.fake
        self._wamids: list[str] = []
        self._count = 0

    def customer_file(self, data: bytes, mime_type: str) -> str:
        self._count += 1
        media_id = f"77000{self._count}"
        self.fake.add_customer_media(media_id, data, mime_type)
        return media_id

    def send(self, message: Outgoing) -> str:
        wamid = self.whatsapp.send(BUSINESS, message)
        self._wamids.append(wamid)
        return wamid

    def sent(self) -> list[dict[str, Any]]:
        return [_summary(message) for _, message in self.fake.sent]

    def knows(self, wamid: str) -> bool:
        # The fake keeps messages, not ids: it knows the ids it handed out.
        return wamid in self._wamids and len(self._wamids) == len(self.fake.sent)


def _summary(message: Outgoing) -> dict[str, Any]:
    match message:
        case OutgoingText():
            return {"type": "text", "body": message.text}
        case OutgoingMedia():
            return {"type": message.kind.value, "id": message.media_id}
        case _:
            return {"type": type(message).__name__}


class CloudSide:
    """EumWhatsApp over boto3 against the emulator, its files in the emulator's S3 bucket."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.store = S3MediaStore(cloud.client("s3"), defaults.MEDIA_BUCKET, prefix="contract/")
        self.whatsapp: WhatsApp = EumWhatsApp(
            cloud.client("socialmessaging"),
            self.store,
            s3_bucket=defaults.MEDIA_BUCKET,
            s3_prefix="contract/",
        )

    def customer_file(self, data: bytes, mime_type: str) -> str:
        return str(self.cloud.register_media(None, data, mime_type))

    def send(self, message: Outgoing) -> str:
        return self.whatsapp.send(BUSINESS, message)

    def sent(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for body in self.cloud.sent_messages():
            kind = body.get("type", "")
            part = body.get(kind, {})
            if kind == "text":
                out.append({"type": kind, "body": part.get("body")})
            else:
                out.append({"type": kind, "id": part.get("id")})
        return out

    def knows(self, wamid: str) -> bool:
        return any(send.wamid == wamid for send in self.cloud.whatsapp_view.sends())


@pytest.fixture(params=["fake", "aws-over-emulator"])
def side(request: pytest.FixtureRequest) -> Iterator[WhatsAppSide]:
    if request.param == "fake":
        yield FakeSide()
    else:
        yield CloudSide(request.getfixturevalue("cloud"))


def test_send_returns_a_wamid_the_other_side_recorded(side: WhatsAppSide) -> None:
    wamid = side.send(OutgoingText(to=CUSTOMER, text="Your order shipped 📦"))
    assert wamid.startswith("wamid.")
    assert side.knows(wamid)
    assert side.sent()[-1] == {"type": "text", "body": "Your order shipped 📦"}


def test_each_send_gets_its_own_wamid(side: WhatsAppSide) -> None:
    first = side.send(OutgoingText(to=CUSTOMER, text="one"))
    second = side.send(OutgoingText(to=CUSTOMER, text="two"))
    assert first != second


def test_a_customers_file_is_fetched_with_its_bytes_and_type(side: WhatsAppSide) -> None:
    media_id = side.customer_file(JPEG, "image/jpeg")
    stored = side.whatsapp.fetch_media(
        BUSINESS, Media(media_id=media_id, mime_type="image/jpeg"), key="fetch/a/"
    )
    assert stored.key.startswith("fetch/a/")
    assert stored.content_type == "image/jpeg"
    assert stored.size == len(JPEG)
    with side.store.open(stored) as chunks:
        assert hashlib.sha256(b"".join(chunks)).hexdigest() == hashlib.sha256(JPEG).hexdigest()


def test_an_unknown_media_id_is_permanent(side: WhatsAppSide) -> None:
    with pytest.raises(PermanentError):
        side.whatsapp.fetch_media(BUSINESS, Media(media_id="999999999"), key="fetch/none/")


def test_an_uploaded_file_can_be_sent_by_its_media_id(side: WhatsAppSide) -> None:
    stored = side.store.put("upload/photo.jpg", [JPEG], content_type="image/jpeg")
    media_id = side.whatsapp.upload_media(BUSINESS, stored)
    assert media_id
    wamid = side.send(OutgoingMedia(to=CUSTOMER, kind=MediaKind.IMAGE, media_id=media_id))
    assert side.knows(wamid)
    assert side.sent()[-1] == {"type": "image", "id": media_id}
