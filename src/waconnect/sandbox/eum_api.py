"""Emulated AWS End User Messaging Social: WhatsApp sends and media, for the sandbox's numbers."""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import av
import httpx
from botocore.exceptions import ClientError

from waconnect.sandbox import limits
from waconnect.sandbox.blobs import Blob, BlobStore
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.meta_send import MediaFacts, check_send_body
from waconnect.sandbox.protocol import ApiError, Call, Handler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumber:
    aws_id: str  # phone-number-id-<hex>
    arn: str
    meta_id: str
    display: str
    waba_id: str
    waba_arn: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    media_id: str
    blob: Blob
    mime_type: str
    owner: str  # AWS phone number id for uploads; "" for media a customer sent
    codec: str = ""
    # For media a customer sent: the AWS phone number id of the business number that received it,
    # the only one WhatsApp lets download it.
    recipient: str = ""

    def readable_by(self, aws_id: str) -> bool:
        return self.owner == aws_id if self.owner else self.recipient == aws_id


_UNTYPED = frozenset({"binary/octet-stream", "application/octet-stream"})


def _not_found(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message, 404)


def _invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message, 400)


def audio_codec(blob: Blob) -> str:
    try:
        with av.open(str(blob.path)) as container:
            return str(container.streams.audio[0].codec_context.name)
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return ""


class EumApi:
    def __init__(self, *, ids: IdSource, journal: Journal, blobs: BlobStore, s3: S3Client) -> None:
        self._ids = ids
        self._journal = journal
        self._blobs = blobs
        self._s3 = s3
        self.lock = threading.RLock()
        self.numbers: dict[str, PhoneNumber] = {}
        self.media: dict[str, Media] = {}
        self.sent: list[dict[str, Any]] = []
        self.wamid_customers: dict[str, str] = {}
        self.identities: dict[str, str] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            "SendWhatsAppMessage": self.send_whatsapp_message,
            "GetWhatsAppMessageMedia": self.get_whatsapp_message_media,
            "PostWhatsAppMessageMedia": self.post_whatsapp_message_media,
        }

    def add_number(self, number: PhoneNumber) -> None:
        with self.lock:
            self.numbers[number.aws_id] = number

    def number(self, origination: str) -> PhoneNumber:
        suffix = origination.rsplit("/", 1)[1] if origination.startswith("arn:") else ""
        aws_id = f"phone-number-id-{suffix}" if suffix else origination
        with self.lock:
            number = self.numbers.get(aws_id)
        if number is None or (suffix and number.arn != origination):
            raise _not_found(f"phone number {origination} not found")
        return number

    def add_media(self, media: Media) -> None:
        with self.lock:
            self.media[media.media_id] = media

    def _media_facts(self, media_id: str) -> MediaFacts | None:
        with self.lock:
            media = self.media.get(media_id)
        if media is None:
            return None
        return MediaFacts(
            mime_type=media.mime_type, size=media.blob.size, owner=media.owner, codec=media.codec
        )

    def send_whatsapp_message(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        number = self.number(params["originationPhoneNumberId"])
        version = params["metaApiVersion"]
        if not version.startswith("v") or not version[1:].replace(".", "").isdigit():
            raise _invalid(f"metaApiVersion {version!r} is not a Meta API version")
        try:
            body = json.loads(params["message"])
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid("message is not a JSON document") from exc
        outgoing = check_send_body(body, phone_number=number.aws_id, media=self._media_facts)
        with self.lock:
            wamid = self._ids.wamid()
            self.sent.append(body)
            self.wamid_customers[wamid] = outgoing.to
            customer: str | None = self.identities.get(outgoing.to, outgoing.to)
            if not outgoing.to:
                customer = self.wamid_customers.get(outgoing.reply_to or "", "") or None
            media = self.media.get(outgoing.media_id) if outgoing.media_id else None
            blob = media.blob if media is not None else None
            self._journal.record(
                to="customer",
                kind=outgoing.kind,
                customer=customer,
                text=outgoing.text,
                attachment=outgoing.filename,
                content_type=media.mime_type if media is not None else None,
                size=blob.size if blob is not None else None,
                sha256=blob.sha256 if blob is not None else None,
                duration=blob.duration if blob is not None else None,
                emoji=outgoing.emoji,
                reply_to=outgoing.reply_to,
            )
        return {"messageId": wamid}

    def get_whatsapp_message_media(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        number = self.number(params["originationPhoneNumberId"])
        with self.lock:
            media = self.media.get(params["mediaId"])
        # Another number's media answers as if it did not exist, telling nothing about it.
        if media is None or not media.readable_by(number.aws_id):
            raise _not_found(f"media {params['mediaId']} not found")
        result = {"mimeType": media.mime_type, "fileSize": media.blob.size}
        if params.get("metadataOnly"):
            return result
        destination: dict[str, Any] | None = params.get("destinationS3File")
        presigned: dict[str, Any] | None = params.get("destinationS3PresignedUrl")
        if (destination is None) == (presigned is None):
            raise _invalid("give exactly one of destinationS3File and destinationS3PresignedUrl")
        if destination is not None:
            mime = media.mime_type.split(";", 1)[0].strip()
            extension = limits.EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ""
            key = f"{destination['key']}{media.media_id}{extension}"
            try:
                with media.blob.path.open("rb") as file:
                    self._s3.put_object(
                        Bucket=destination["bucketName"], Key=key, Body=file, ContentType=mime
                    )
            except ClientError as exc:
                raise _invalid(f"cannot write s3://{destination['bucketName']}/{key}") from exc
        elif presigned is not None:
            headers = dict(presigned.get("headers", {}))
            headers["Content-Length"] = str(media.blob.size)
            response = httpx.put(
                presigned["url"], content=media.blob.chunks(), headers=headers, timeout=60
            )
            if response.status_code >= 300:
                raise _invalid(f"the presigned URL refused the upload ({response.status_code})")
        return result

    def post_whatsapp_message_media(
        self, call: Call, _headers: Mapping[str, str]
    ) -> dict[str, Any]:
        params = call.params
        number = self.number(params["originationPhoneNumberId"])
        source: dict[str, Any] | None = params.get("sourceS3File")
        presigned: dict[str, Any] | None = params.get("sourceS3PresignedUrl")
        if (source is None) == (presigned is None):
            raise _invalid("give exactly one of sourceS3File and sourceS3PresignedUrl")
        if source is not None:
            blob, mime = self._read_s3(source["bucketName"], source["key"])
        else:
            assert presigned is not None
            blob, mime = self._read_url(presigned["url"], presigned.get("headers", {}))
        allowed = {m for types, _size in limits.WHATSAPP_MEDIA.values() for m in types}
        base = mime.split(";", 1)[0].strip().lower()
        if base not in allowed:
            raise _invalid(f"media type {base!r} is not supported by WhatsApp")
        largest = max(size for types, size in limits.WHATSAPP_MEDIA.values() if base in types)
        if blob.size > largest:
            raise _invalid(f"media of {blob.size} bytes is over WhatsApp's {largest} for {base}")
        with self.lock:
            media_id = self._ids.media_id()
        codec = audio_codec(blob) if base.startswith("audio/") else ""
        self.add_media(
            Media(media_id=media_id, blob=blob, mime_type=base, owner=number.aws_id, codec=codec)
        )
        return {"mediaId": media_id}

    def _read_s3(self, bucket: str, key: str) -> tuple[Blob, str]:
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            raise _invalid(f"cannot read s3://{bucket}/{key}") from exc
        mime = obj.get("ContentType") or ""
        if not mime or mime in _UNTYPED:
            mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
        body = obj["Body"]
        blob = self._blobs.put(iter(lambda: body.read(1024 * 1024), b""), content_type=mime)
        return blob, mime

    def _read_url(self, url: str, headers: Mapping[str, str]) -> tuple[Blob, str]:
        with httpx.stream("GET", url, headers=dict(headers), timeout=60) as response:
            if response.status_code >= 300:
                raise _invalid(f"the presigned URL refused the download ({response.status_code})")
            mime = response.headers.get("content-type", "")
            if not mime or mime in _UNTYPED:
                mime = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
            blob = self._blobs.put(_chunks(response), content_type=mime)
        return blob, mime


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes(1024 * 1024)
