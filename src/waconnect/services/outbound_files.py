"""An agent's file as a WhatsApp message: downloaded, checked, converted when WhatsApp needs it,
uploaded, and sent by media id.

The bytes are examined for what they truly are; the outbound policy then says how WhatsApp takes
the file (image, video, audio, voice note, document), what it must become first (a photo or a
video that cannot be made to fit its kind goes as a document), or that it cannot go at all
(empty, too large, of a type WhatsApp refuses): a :class:`FileRefused` naming the reason, which
the agent is told.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from waconnect.domain.connect import ConnectAttachment
from waconnect.domain.failures import Direction, Failure, FailureReason
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import MediaKind, OutgoingMedia
from waconnect.domain.session import ChatSession
from waconnect.errors import DoesNotFit, PermanentError
from waconnect.media.policy import OutboundPlan, document_instead, outbound_plan
from waconnect.ports import ConnectChat, Converter, MediaStore, WhatsApp
from waconnect.services.chats import ChatLifecycle

logger = logging.getLogger(__name__)


class FileRefused(PermanentError):
    """An agent's file WhatsApp would not take (empty, too large, or of a type it refuses)."""

    def __init__(self, reason: str, *, refusal: FailureReason) -> None:
        super().__init__(reason, operation="upload_media")
        self.refusal = refusal

    def failure(self, subject: str) -> Failure:
        return Failure.of(
            self.refusal, direction=Direction.TO_CUSTOMER, subject=subject, detail=str(self)
        )


class OutboundFiles:
    def __init__(
        self,
        *,
        connect: ConnectChat,
        whatsapp: WhatsApp,
        media: MediaStore,
        converter: Converter,
        chats: ChatLifecycle,
    ) -> None:
        self._connect = connect
        self._whatsapp = whatsapp
        self._media = media
        self._converter = converter
        self._chats = chats

    def message(
        self, session: ChatSession, attachment: ConnectAttachment
    ) -> tuple[OutgoingMedia, str]:
        """The WhatsApp message carrying ``attachment`` to the customer of ``session``, its
        media uploaded, and the file's name as sent; ``FileRefused`` when WhatsApp would not
        take it."""
        key = f"outbound/{session.contact_id}/{attachment.attachment_id}/"

        def download(current: ChatSession) -> StoredMedia:
            got = self._connect.get_attachment(
                current.connection_token,
                attachment.attachment_id,
                name=attachment.name,
                content_type=attachment.content_type,
                key=key,
            )
            return replace(got.stored, filename=got.name)

        stored = self._chats.call(session, download)
        # Imported with the first file: a process that handles texts only never loads it.
        from waconnect.media.examine import examine_stored  # noqa: PLC0415

        found = examine_stored(
            self._media,
            stored,
            declared=stored.content_type or attachment.content_type,
            filename=stored.filename,
        )
        content_type = found.content_type
        plan = outbound_plan(content_type, stored.size, name=stored.filename, refusal=found.refusal)
        if plan.action == "notice":
            if stored.size <= 0:
                refusal = FailureReason.EMPTY_FILE
            elif found.refused:
                refusal = FailureReason.FILE_REFUSED
            elif plan.too_large:
                refusal = FailureReason.MEDIA_TOO_LARGE
            else:
                refusal = FailureReason.MEDIA_TYPE_REFUSED
            raise FileRefused(plan.reason, refusal=refusal)
        if plan.action == "convert":
            stored, plan = self._converted(replace(stored, content_type=content_type), plan, key)
        if plan.content_type != stored.content_type:
            # WhatsApp reads the type of the stored object, not of this record: store it again.
            stored = self._restored(stored, f"{key}whatsapp/{plan.filename}", plan.content_type)
        stored = replace(stored, filename=plan.filename)
        media_id = self._whatsapp.upload_media(session.business, stored)
        message = OutgoingMedia(
            to=session.customer,
            kind=plan.kind,
            media_id=media_id,
            filename=plan.filename if plan.kind is MediaKind.DOCUMENT else "",
            voice=plan.voice,
        )
        return message, plan.filename

    def _converted(
        self, stored: StoredMedia, plan: OutboundPlan, key: str
    ) -> tuple[StoredMedia, OutboundPlan]:
        """The file ``plan`` converts ``stored`` to, and the plan to send it by: the same, or a
        document when a photo or a video could not be made to fit its kind."""
        try:
            converted = self._converter.convert(
                stored, target=plan.target, key=f"{key}converted/{plan.filename}",
                max_bytes=plan.max_bytes,
            )  # fmt: skip
            return converted.stored, plan
        except PermanentError as exc:
            instead = document_instead(
                plan, stored.content_type, stored.size, name=stored.filename,
                does_not_fit=isinstance(exc, DoesNotFit),
            )  # fmt: skip
            if instead is None:
                raise
            logger.info("%s goes as a document: %s", plan.kind.value, exc)
        if instead.action == "send":
            return stored, instead
        converted = self._converter.convert(
            stored, target=instead.target, key=f"{key}document/{instead.filename}",
            max_bytes=instead.max_bytes,
        )  # fmt: skip
        return converted.stored, instead

    def _restored(self, media: StoredMedia, key: str, content_type: str) -> StoredMedia:
        with self._media.open(media) as chunks:
            return self._media.put(key, chunks, content_type=content_type, filename=media.filename)
