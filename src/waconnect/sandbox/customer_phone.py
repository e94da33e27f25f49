"""What customers do on the emulated WhatsApp: send messages and media, read the business's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.blobs import BlobStore, audio_codec
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.envelopes import eum_notification, meta_entry
from waconnect.sandbox.eum_api import EumApi
from waconnect.sandbox.eum_records import Media, PhoneNumber
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.meta_send import MEDIA_KINDS
from waconnect.sandbox.topics import Topic


class CustomerPhone:
    """Every customer's phone: each message becomes the EUM notification on the inbound topic."""

    def __init__(
        self, *, eum: EumApi, ids: IdSource, blobs: BlobStore, clock: SandboxClock, topic: Topic
    ) -> None:
        self._eum = eum
        self._records = eum.records
        self._ids = ids
        self._blobs = blobs
        self._clock = clock
        self._topic = topic

    def number(self, business: str | None) -> PhoneNumber:
        """The business number a Meta phone number id names (the sandbox's own by default)."""
        return self._records.number_for_meta_id(business or defaults.META_PHONE_NUMBER_ID)

    def register_media(
        self, media_id: str | None, data: bytes | Path, mime_type: str, *, business: str | None
    ) -> str:
        """Media a customer sent (bytes, or a file copied from its path), held for ``business``."""
        recipient = self.number(business).aws_id
        blob = self._blobs.put_any(data, content_type=mime_type)
        with self._records.lock:
            media_id = media_id or self._ids.media_id()
        codec = audio_codec(blob.path) if mime_type.startswith("audio/") else ""
        self._records.add_media(
            Media(
                media_id=media_id,
                blob=blob,
                mime_type=mime_type,
                owner="",
                codec=codec,
                recipient=recipient,
            )
        )
        return media_id

    def sends(
        self,
        customer: Customer,
        message: dict[str, Any],
        *,
        business: str | None,
        wamid: str | None,
    ) -> str:
        """Publish the EUM notification for one customer message; returns its wamid."""
        number = self.number(business)
        records = self._records
        completed = json.loads(json.dumps(message))
        now = self._clock.now()
        with records.lock:
            wamid = wamid or self._ids.wamid()
            records.note_wamid(wamid, customer)
            records.note_inbound(aws_id=number.aws_id, customer=customer, at=now)
        completed.update({"from": customer.wa_id, "id": wamid, "timestamp": str(int(now))})
        if customer.user_id:
            completed["from_user_id"] = customer.user_id
        self._complete_media(completed, number)
        records.note_customer_message(
            customer=customer.identity, wamid=wamid, message=completed, at=now
        )
        contact: dict[str, Any] = {"profile": {"name": customer.name}, "wa_id": customer.wa_id}
        if customer.user_id:
            contact["user_id"] = customer.user_id
        entry = meta_entry(
            waba_id=number.waba_id,
            display_phone_number=number.display,
            meta_phone_number_id=number.meta_id,
            contacts=[contact],
            messages=[completed],
        )
        notification = eum_notification(
            entry=entry,
            waba_id=number.waba_id,
            waba_arn=number.waba_arn,
            meta_phone_number_id=number.meta_id,
            phone_number_arn=number.arn,
            account_id=defaults.ACCOUNT_ID,
            timestamp=now,
        )
        self._topic.publish(notification)
        return wamid

    def _complete_media(self, message: dict[str, Any], number: PhoneNumber) -> None:
        kind = message.get("type")
        payload = message.get(kind) if isinstance(kind, str) else None
        if kind not in MEDIA_KINDS or not isinstance(payload, dict) or "id" not in payload:
            return
        media = self._records.media_received_by(str(payload["id"]), number.aws_id)
        if media is not None:
            payload.setdefault("mime_type", media.mime_type)
            payload.setdefault("sha256", media.blob.sha256)
