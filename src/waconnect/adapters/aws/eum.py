"""ports.WhatsApp over AWS End User Messaging Social (boto3 ``socialmessaging``, injected).

Media moves through an S3 bucket that End User Messaging writes to and reads from; the media store
given here must be a store on that same bucket (and ``s3_prefix`` its key prefix), so that the
object EUM writes is the file the store finds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from waconnect.adapters.aws.errors import translate_errors
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing
from waconnect.domain.whatsapp import BusinessNumber, Media
from waconnect.errors import ConfigurationError, PermanentError
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
    ) -> None:
        self._client = client
        self._store = media_store
        self._bucket = s3_bucket
        self._prefix = s3_prefix
        self._api_version = meta_api_version

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        body = json.dumps(build_message(message), ensure_ascii=False, separators=(",", ":"))
        with translate_errors("SendWhatsAppMessage", service=SERVICE):
            response = self._client.send_whatsapp_message(
                originationPhoneNumberId=_origination(business),
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
                originationPhoneNumberId=_origination(business),
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
                originationPhoneNumberId=_origination(business),
                sourceS3File={"bucketName": self._bucket, "key": self._prefix + media.key},
            )
        media_id = response.get("mediaId", "")
        if not media_id:
            raise PermanentError(
                "PostWhatsAppMessageMedia returned no mediaId", operation="PostWhatsAppMessageMedia"
            )
        return media_id


def _origination(business: BusinessNumber) -> str:
    if not business.aws_phone_number_id:
        raise ConfigurationError(
            f"business number {business.meta_phone_number_id} has no End User Messaging id"
        )
    return business.aws_phone_number_id
