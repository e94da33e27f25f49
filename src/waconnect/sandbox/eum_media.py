"""End User Messaging's media operations: GetWhatsAppMessageMedia and PostWhatsAppMessageMedia.

Files move between S3 (or a presigned URL) and the emulator's blob store a chunk at a time.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from botocore.exceptions import ClientError

from waconnect.sandbox import limits
from waconnect.sandbox.blobs import Blob, BlobStore, audio_codec
from waconnect.sandbox.eum_records import Media, WhatsAppRecords
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.protocol import ApiError, Call, Handler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_UNTYPED = frozenset({"binary/octet-stream", "application/octet-stream"})
_CHUNK = 1024 * 1024


def _not_found(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message, 404)


def invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message, 400)


class MediaOperations:
    """The two media operations over one WhatsApp's records and blob store."""

    def __init__(
        self, *, records: WhatsAppRecords, ids: IdSource, blobs: BlobStore, s3: S3Client
    ) -> None:
        self._records = records
        self._ids = ids
        self._blobs = blobs
        self._s3 = s3

    def handlers(self) -> dict[str, Handler]:
        return {
            "GetWhatsAppMessageMedia": self.get_whatsapp_message_media,
            "PostWhatsAppMessageMedia": self.post_whatsapp_message_media,
        }

    def get_whatsapp_message_media(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        records = self._records
        number = records.number(params["originationPhoneNumberId"])
        with records.lock:
            media = records.media.get(params["mediaId"])
        # Another number's media answers as if it did not exist, telling nothing about it.
        if media is None or not media.readable_by(number.aws_id):
            raise _not_found(f"media {params['mediaId']} not found")
        result = {"mimeType": media.mime_type, "fileSize": media.blob.size}
        if params.get("metadataOnly"):
            return result
        destination: dict[str, Any] | None = params.get("destinationS3File")
        presigned: dict[str, Any] | None = params.get("destinationS3PresignedUrl")
        if (destination is None) == (presigned is None):
            # The model's error for this (its documentation spells it without the s).
            raise ApiError(
                "InvalidParametersException",
                "give exactly one of destinationS3File and destinationS3PresignedUrl",
                400,
            )
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
                raise invalid(f"cannot write s3://{destination['bucketName']}/{key}") from exc
        elif presigned is not None:
            headers = dict(presigned.get("headers", {}))
            headers["Content-Length"] = str(media.blob.size)
            response = httpx.put(
                presigned["url"], content=media.blob.chunks(), headers=headers, timeout=60
            )
            if response.status_code >= 300:
                raise invalid(f"the presigned URL refused the upload ({response.status_code})")
        return result

    def post_whatsapp_message_media(
        self, call: Call, _headers: Mapping[str, str]
    ) -> dict[str, Any]:
        params = call.params
        number = self._records.number(params["originationPhoneNumberId"])
        source: dict[str, Any] | None = params.get("sourceS3File")
        presigned: dict[str, Any] | None = params.get("sourceS3PresignedUrl")
        if (source is None) == (presigned is None):
            raise invalid("give exactly one of sourceS3File and sourceS3PresignedUrl")
        if source is not None:
            blob, mime = self._read_s3(source["bucketName"], source["key"])
        else:
            assert presigned is not None
            blob, mime = self._read_url(presigned["url"], presigned.get("headers", {}))
        base = mime.split(";", 1)[0].strip().lower()
        if base not in limits.WHATSAPP_UPLOAD_TYPES:
            raise invalid(f"media type {base!r} is not supported by WhatsApp")
        # Each message kind's own limit is checked when the media is sent as that kind.
        if blob.size > limits.WHATSAPP_UPLOAD_MAX:
            raise invalid(
                f"media of {blob.size} bytes is over WhatsApp's {limits.WHATSAPP_UPLOAD_MAX}"
            )
        with self._records.lock:
            media_id = self._ids.media_id()
        codec = audio_codec(blob.path) if base.startswith("audio/") else ""
        self._records.add_media(
            Media(media_id=media_id, blob=blob, mime_type=base, owner=number.aws_id, codec=codec)
        )
        return {"mediaId": media_id}

    def _read_s3(self, bucket: str, key: str) -> tuple[Blob, str]:
        try:
            obj = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            raise invalid(f"cannot read s3://{bucket}/{key}") from exc
        mime = obj.get("ContentType") or ""
        if not mime or mime in _UNTYPED:
            mime = mimetypes.guess_type(key)[0] or "application/octet-stream"
        body = obj["Body"]
        blob = self._blobs.put(iter(lambda: body.read(_CHUNK), b""), content_type=mime)
        return blob, mime

    def _read_url(self, url: str, headers: Mapping[str, str]) -> tuple[Blob, str]:
        with httpx.stream("GET", url, headers=dict(headers), timeout=60) as response:
            if response.status_code >= 300:
                raise invalid(f"the presigned URL refused the download ({response.status_code})")
            mime = response.headers.get("content-type", "")
            if not mime or mime in _UNTYPED:
                mime = mimetypes.guess_type(urlsplit(url).path)[0] or "application/octet-stream"
            blob = self._blobs.put(_chunks(response), content_type=mime)
        return blob, mime


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes(_CHUNK)
