"""ports.WhatsApp over AWS End User Messaging Social (boto3 ``socialmessaging``, injected).

Media moves through an S3 bucket that End User Messaging writes to and reads from; the media store
given here must be a store on that same bucket (and ``s3_prefix`` its key prefix), so that the
object EUM writes is the file the store finds.

A business number normally carries its End User Messaging id (parsed from the SNS context). When
it does not (a Meta webhook body), ``phone_numbers`` maps its Meta phone-number id to one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from waconnect.adapters.aws.errors import translate_errors
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing
from waconnect.domain.whatsapp import BusinessNumber, Media
from waconnect.errors import PermanentError
from waconnect.wire.meta_send import build_message

if TYPE_CHECKING:
    from mypy_boto3_socialmessaging import EndUserMessagingSocialClient

    from waconnect.ports import MediaStore

logger = logging.getLogger(__name__)

SERVICE = "socialmessaging"
DEFAULT_META_API_VERSION = "v20.0"


class EumWhatsApp:
    """Send, fetch and upload WhatsApp messages and media through End User Messaging."""

    def __init__(
        self,
        client: EndUserMessagingSocialClient,
        media_store: MediaStore,
        *,
        s3_bucket: str,
        s3_prefix: str = "",
        meta_api_version: str = DEFAULT_META_API_VERSION,
        phone_numbers: Mapping[str, str] | None = None,
    ) -> None:
        self._client = client
        # Kept as given, not copied: a map that learns numbers (the sandbox's) is read live.
        self._phone_numbers: Mapping[str, str] = phone_numbers if phone_numbers is not None else {}
        self._store = media_store
        self._bucket = s3_bucket
        self._prefix = s3_prefix
        self._api_version = meta_api_version

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        body = json.dumps(build_message(message), ensure_ascii=False, separators=(",", ":"))
        # No idempotency token: a send that may have gone out is Unconfirmed, never repeated.
        with translate_errors("SendWhatsAppMessage", service=SERVICE, idempotent=False):
            response = self._client.send_whatsapp_message(
                originationPhoneNumberId=self._origination(business, "SendWhatsAppMessage"),
                message=body.encode("utf-8"),
                metaApiVersion=self._api_version,
            )
        wamid = response.get("messageId", "")
        if not wamid:
            raise PermanentError(
                "SendWhatsAppMessage returned no messageId", operation="SendWhatsAppMessage"
            )
        logger.debug("sent %s from %s", type(message).__name__, business.meta_phone_number_id)
        return wamid

    def fetch_media(self, business: BusinessNumber, media: Media, *, key: str) -> StoredMedia:
        with translate_errors("GetWhatsAppMessageMedia", service=SERVICE):
            response = self._client.get_whatsapp_message_media(
                mediaId=media.media_id,
                originationPhoneNumberId=self._origination(business, "GetWhatsAppMessageMedia"),
                destinationS3File={"bucketName": self._bucket, "key": self._prefix + key},
            )
        # EUM names the object after the media id, maybe with an extension: look, don't guess.
        stored = self._store.find(key)
        if stored is None:
            raise PermanentError(
                f"media {media.media_id} was fetched but no object starts with the key",
                operation="GetWhatsAppMessageMedia",
                code="MissingObject",
            )
        content_type = response.get("mimeType") or media.mime_type or stored.content_type
        return replace(
            stored, content_type=content_type, filename=stored.filename or media.filename
        )

    def upload_media(self, business: BusinessNumber, media: StoredMedia) -> str:
        with translate_errors("PostWhatsAppMessageMedia", service=SERVICE):
            response = self._client.post_whatsapp_message_media(
                originationPhoneNumberId=self._origination(business, "PostWhatsAppMessageMedia"),
                sourceS3File={"bucketName": self._bucket, "key": self._prefix + media.key},
            )
        media_id = response.get("mediaId", "")
        if not media_id:
            raise PermanentError(
                "PostWhatsAppMessageMedia returned no mediaId", operation="PostWhatsAppMessageMedia"
            )
        return media_id

    def can_send_from(self, business: BusinessNumber) -> bool:
        return bool(
            business.aws_phone_number_id or self._phone_numbers.get(business.meta_phone_number_id)
        )

    def _origination(self, business: BusinessNumber, operation: str) -> str:
        if business.aws_phone_number_id:
            return business.aws_phone_number_id
        mapped = self._phone_numbers.get(business.meta_phone_number_id, "")
        if mapped:
            return mapped
        # A gap in the settings, not a fault of this message: no retry will fill it, and the
        # process must keep serving the numbers it does know.
        raise PermanentError(
            f"business number {business.meta_phone_number_id} has no End User Messaging id "
            "(add it to eum_phone_numbers)",
            operation=operation,
            code="UnknownBusinessNumber",
        )
