"""Emulated AWS End User Messaging Social: WhatsApp sends and media, for the sandbox's numbers."""

from __future__ import annotations

import json
import logging
import mimetypes
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import av
import httpx
from botocore.exceptions import ClientError

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults, limits
from waconnect.sandbox.blobs import Blob, BlobStore
from waconnect.sandbox.delivery import (
    NOT_MESSAGES,
    WINDOW_REASON,
    Outbound,
    Recipient,
    outside_window,
    reengagement_error,
    status_document,
    success_statuses,
)
from waconnect.sandbox.envelopes import eum_notification, meta_status_entry
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.meta_send import MediaFacts, Outgoing, check_send_body
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchanged:
    """One message between a customer and a business number, as the customer's phone shows it."""

    from_customer: bool
    customer: str  # identity
    wamid: str
    body: Mapping[str, Any]  # the Meta message (the customer's) or send body (the business's)
    at: float


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


Notify = Callable[[Mapping[str, Any]], object]
LINK_REASON = "WhatsApp could not fetch the media link"


def _link_error() -> dict[str, Any]:
    """WhatsApp's error for a media link it could not download."""
    return {
        "code": 131053,
        "title": "Media upload error",
        "message": "Media upload error",
        "error_data": {"details": "Unable to download the media from the link"},
    }


class EumApi:
    """The three operations, plus what WhatsApp does with a sent message (``delivery``).

    ``notify`` publishes an EUM notification on the inbound topic (statuses go there, as End
    User Messaging sends them); ``statuses=False`` keeps the ``sent``/``delivered``/``read``
    statuses of delivered messages to itself, while a ``failed`` one is always published: it is
    the only way the business learns of the failure.
    """

    def __init__(
        self,
        *,
        ids: IdSource,
        journal: Journal,
        blobs: BlobStore,
        s3: S3Client,
        now: Callable[[], float] = time.time,
        notify: Notify | None = None,
        statuses: bool = True,
        account_id: str = defaults.ACCOUNT_ID,
        http: Callable[[], httpx.Client] = httpx.Client,
    ) -> None:
        self._ids = ids
        self._journal = journal
        self._blobs = blobs
        self._s3 = s3
        self._now = now
        self._notify = notify
        self._statuses = statuses
        self._account_id = account_id
        # What fetches media links: the cloud's transport, which reaches only 127.0.0.1.
        self._http = http
        self.lock = threading.RLock()
        self.numbers: dict[str, PhoneNumber] = {}
        self.media: dict[str, Media] = {}
        self.sent: list[dict[str, Any]] = []
        self.wamid_customers: dict[str, str] = {}
        self.identities: dict[str, str] = {}
        # (business AWS phone number id, customer identity) -> emulator time of their last message
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.recipients: dict[str, Recipient] = {}
        self.outbound: dict[str, Outbound] = {}
        # (customer identity, body) of each message WhatsApp delivered, receipts left out
        self.received: list[tuple[str, dict[str, Any]]] = []
        # Both directions in the order they happened, for the customer's phone.
        self.timeline: list[Exchanged] = []

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
        # WhatsApp fetches a media link before it delivers (not under the lock: it may be slow).
        fetched = self._fetch_link(outgoing, number) if outgoing.link else outgoing
        with self.lock:
            wamid = self._ids.wamid()
            self.sent.append(body)
            self.wamid_customers[wamid] = outgoing.to
            customer: str | None = self.identities.get(outgoing.to, outgoing.to)
            if not outgoing.to:
                customer = self.wamid_customers.get(outgoing.reply_to or "", "") or None
            now = self._now()
            if outgoing.kind in NOT_MESSAGES:
                self._record_delivery(outgoing, customer)
                return {"messageId": wamid}
            outbound = Outbound(
                wamid=wamid,
                aws_id=number.aws_id,
                recipient=self._recipient(body, outgoing, customer or ""),
                kind=outgoing.kind,
                status="failed",
            )
            last = self.last_inbound.get((number.aws_id, customer or ""))
            if outside_window(outgoing.kind, last, now):
                self.outbound[wamid] = outbound
                self._journal.record(
                    to="system", kind="failed", customer=customer, reason=WINDOW_REASON
                )
                logger.info("%s to a customer outside the service window: failed", outgoing.kind)
                failed = status_document(
                    outbound, "failed", timestamp=now, errors=[reengagement_error()]
                )
                self._publish_status(number, failed, now)
                return {"messageId": wamid}
            if fetched is None:
                self.outbound[wamid] = outbound
                self._journal.record(
                    to="system", kind="failed", customer=customer, reason=LINK_REASON
                )
                failed = status_document(outbound, "failed", timestamp=now, errors=[_link_error()])
                self._publish_status(number, failed, now)
                return {"messageId": wamid}
            outgoing = fetched
            self._record_delivery(outgoing, customer)
            self.received.append((customer or "", body))
            self.timeline.append(
                Exchanged(
                    from_customer=False, customer=customer or "", wamid=wamid, body=body, at=now
                )
            )
            reported = success_statuses(outgoing.kind)
            self.outbound[wamid] = replace(outbound, status=reported[-1])
            if self._statuses:
                for status in reported:
                    self._publish_status(
                        number, status_document(outbound, status, timestamp=now), now
                    )
        return {"messageId": wamid}

    def _fetch_link(self, outgoing: Outgoing, number: PhoneNumber) -> Outgoing | None:
        """The send with the file its link names, fetched as WhatsApp would; None when it
        cannot be fetched, or is not a file WhatsApp sends as that kind."""
        assert outgoing.link is not None
        allowed, largest = limits.WHATSAPP_MEDIA[outgoing.kind]
        try:
            with self._http() as client, client.stream("GET", outgoing.link) as response:
                if response.status_code >= 300:
                    return None
                mime = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                blob = self._blobs.put(response.iter_bytes(1024 * 1024), content_type=mime)
        except httpx.HTTPError as exc:
            logger.info("a media link could not be fetched: %s", type(exc).__name__)
            return None
        if mime not in allowed or blob.size > largest:
            return None
        codec = audio_codec(blob) if mime.startswith("audio/") else ""
        media = Media(
            media_id=f"link-{blob.sha256[:24]}",
            blob=blob,
            mime_type=mime,
            owner=number.aws_id,
            codec=codec,
        )
        self.add_media(media)
        return replace(outgoing, media_id=media.media_id)

    def _record_delivery(self, outgoing: Outgoing, customer: str | None) -> None:
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

    def _recipient(self, body: Mapping[str, Any], outgoing: Outgoing, identity: str) -> Recipient:
        known = self.recipients.get(identity)
        if known is not None:
            return known
        if body.get("recipient") == outgoing.to and not body.get("to"):
            return Recipient(wa_id="", user_id=outgoing.to)
        return Recipient(wa_id=outgoing.to)

    def _publish_status(self, number: PhoneNumber, status: dict[str, Any], now: float) -> None:
        if self._notify is None:
            return
        entry = meta_status_entry(
            waba_id=number.waba_id,
            display_phone_number=number.display,
            meta_phone_number_id=number.meta_id,
            statuses=[status],
        )
        self._notify(
            eum_notification(
                entry=entry,
                waba_id=number.waba_id,
                waba_arn=number.waba_arn,
                meta_phone_number_id=number.meta_id,
                phone_number_arn=number.arn,
                account_id=self._account_id,
                timestamp=now,
            )
        )

    # --- the customer's side -------------------------------------------------------------------

    def note_inbound(self, *, aws_id: str, customer: Customer, at: float) -> None:
        """``customer`` wrote to the business number ``aws_id`` at ``at``: the window opens."""
        identity = customer.identity
        with self.lock:
            key = (aws_id, identity)
            self.last_inbound[key] = max(at, self.last_inbound.get(key, at))
            self.recipients[identity] = Recipient(wa_id=customer.wa_id, user_id=customer.user_id)
            if customer.wa_id:
                self.identities[customer.wa_id] = identity
            if customer.user_id:
                self.identities[customer.user_id] = identity

    def note_customer_message(
        self, *, customer: str, wamid: str, message: Mapping[str, Any], at: float
    ) -> None:
        """The customer sent ``message``: it joins their side of the conversation."""
        with self.lock:
            self.timeline.append(
                Exchanged(from_customer=True, customer=customer, wamid=wamid, body=message, at=at)
            )

    def customer_reads(self, wamid: str) -> None:
        """The customer opens a message the business sent: a ``read`` status (once)."""
        with self.lock:
            outbound = self.outbound.get(wamid)
            if outbound is None:
                raise ValueError(f"no message {wamid} was sent to a customer")
            if outbound.status == "read":
                return
            if not outbound.can_be_read:
                raise ValueError(
                    f"message {wamid} cannot be read: a {outbound.kind} that is {outbound.status}"
                )
            self.outbound[wamid] = replace(outbound, status="read")
            if self._statuses:
                now = self._now()
                number = self.numbers[outbound.aws_id]
                self._publish_status(number, status_document(outbound, "read", timestamp=now), now)

    def status_of(self, wamid: str) -> str | None:
        """The last status of a message the business sent (None for receipts and unknown ids)."""
        with self.lock:
            outbound = self.outbound.get(wamid)
        return outbound.status if outbound is not None else None

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
        base = mime.split(";", 1)[0].strip().lower()
        if base not in limits.WHATSAPP_UPLOAD_TYPES:
            raise _invalid(f"media type {base!r} is not supported by WhatsApp")
        # Each message kind's own limit is checked when the media is sent as that kind.
        if blob.size > limits.WHATSAPP_UPLOAD_MAX:
            raise _invalid(
                f"media of {blob.size} bytes is over WhatsApp's {limits.WHATSAPP_UPLOAD_MAX}"
            )
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
