"""Emulated AWS End User Messaging Social: WhatsApp sends, and what WhatsApp does with them.

The media operations are in ``eum_media``; what the emulator holds is in ``eum_records``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from waconnect.sandbox import defaults, limits
from waconnect.sandbox.blobs import BlobStore, audio_codec
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
from waconnect.sandbox.eum_media import MediaOperations, invalid
from waconnect.sandbox.eum_records import Exchanged, Media, PhoneNumber, WhatsAppRecords
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.meta_send import Outgoing, check_send_body
from waconnect.sandbox.protocol import Call, Handler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger(__name__)

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
        self._now = now
        self._notify = notify
        self._statuses = statuses
        self._account_id = account_id
        # What fetches media links: the cloud's transport, which reaches only 127.0.0.1.
        self._http = http
        self.records = WhatsAppRecords()
        self._media = MediaOperations(records=self.records, ids=ids, blobs=blobs, s3=s3)

    def handlers(self) -> dict[str, Handler]:
        return {"SendWhatsAppMessage": self.send_whatsapp_message, **self._media.handlers()}

    def send_whatsapp_message(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        records = self.records
        number = records.number(params["originationPhoneNumberId"])
        version = params["metaApiVersion"]
        if not version.startswith("v") or not version[1:].replace(".", "").isdigit():
            raise invalid(f"metaApiVersion {version!r} is not a Meta API version")
        try:
            body = json.loads(params["message"])
        except (ValueError, UnicodeDecodeError) as exc:
            raise invalid("message is not a JSON document") from exc
        outgoing = check_send_body(body, phone_number=number.aws_id, media=records.media_facts)
        # WhatsApp fetches a media link before it delivers (not under the lock: it may be slow).
        fetched = self._fetch_link(outgoing, number) if outgoing.link else outgoing
        with records.lock:
            wamid = self._ids.wamid()
            records.record_send(wamid, body, outgoing.to, sender=number.meta_id)
            customer: str | None = records.identities.get(outgoing.to, outgoing.to)
            if not outgoing.to:
                customer = records.wamid_customers.get(outgoing.reply_to or "", "") or None
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
            last = records.last_inbound.get((number.aws_id, customer or ""))
            if outside_window(outgoing.kind, last, now):
                records.outbound[wamid] = outbound
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
                records.outbound[wamid] = outbound
                self._journal.record(
                    to="system", kind="failed", customer=customer, reason=LINK_REASON
                )
                failed = status_document(outbound, "failed", timestamp=now, errors=[_link_error()])
                self._publish_status(number, failed, now)
                return {"messageId": wamid}
            outgoing = fetched
            self._record_delivery(outgoing, customer)
            records.received.append((customer or "", body))
            records.timeline.append(
                Exchanged(
                    from_customer=False, customer=customer or "", wamid=wamid, body=body, at=now
                )
            )
            reported = success_statuses(outgoing.kind)
            records.outbound[wamid] = replace(outbound, status=reported[-1])
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
        codec = audio_codec(blob.path) if mime.startswith("audio/") else ""
        media = Media(
            media_id=f"link-{blob.sha256[:24]}",
            blob=blob,
            mime_type=mime,
            owner=number.aws_id,
            codec=codec,
        )
        self.records.add_media(media)
        return replace(outgoing, media_id=media.media_id)

    def _record_delivery(self, outgoing: Outgoing, customer: str | None) -> None:
        media = self.records.media.get(outgoing.media_id) if outgoing.media_id else None
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
        known = self.records.recipients.get(identity)
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

    def customer_reads(self, wamid: str) -> None:
        """The customer opens a message the business sent: a ``read`` status (once)."""
        with self.records.lock:
            outbound = self.records.outbound.get(wamid)
            if outbound is None:
                raise ValueError(f"no message {wamid} was sent to a customer")
            if outbound.status == "read":
                return
            if not outbound.can_be_read:
                raise ValueError(
                    f"message {wamid} cannot be read: a {outbound.kind} that is {outbound.status}"
                )
            self.records.outbound[wamid] = replace(outbound, status="read")
            if self._statuses:
                now = self._now()
                number = self.records.numbers[outbound.aws_id]
                self._publish_status(number, status_document(outbound, "read", timestamp=now), now)
