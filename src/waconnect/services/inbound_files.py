"""A customer's file as parts for the agent: fetched, examined, then attached, converted or named.

WhatsApp's media id is fetched once into the media store and its bytes examined (the type they
truly are, a refusal by the file check). The inbound policy then says what the agent gets: the
file as it is, converted files (a voice note as WAV parts), or a notice naming the file and why
it is not attached, with a download link when the file may be shared. A voice note to transcribe
adds a part of purpose "transcribe", which is not sent itself.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from waconnect.domain.media import StoredMedia
from waconnect.domain.render import render_media_notice
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.domain.whatsapp import InboundMessage, Media, MessageType
from waconnect.errors import DeliveryError, PermanentError
from waconnect.media.convert import part_name
from waconnect.media.examine import examine_stored
from waconnect.media.naming import file_name_for
from waconnect.media.policy import WAV16K, ConnectLimits, inbound_plan
from waconnect.ports import Converter, MediaStore, WhatsApp
from waconnect.services.delivery import Part, text_parts
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)

# How long the agent can download a file Connect would not take.
NOTICE_LINK_SECONDS = 24 * 3600


class InboundFiles:
    def __init__(
        self,
        *,
        whatsapp: WhatsApp,
        media: MediaStore,
        converter: Converter,
        limits: ConnectLimits,
        stickers: bool = True,
        transcribe: bool = False,
        connect_text_limit: int = CONNECT_TEXT_LIMIT,
    ) -> None:
        self._whatsapp = whatsapp
        self._media = media
        self._converter = converter
        self._limits = limits
        self._stickers = stickers
        self._transcribe = transcribe
        self._text_limit = connect_text_limit

    def parts(self, message: InboundMessage, media: Media) -> list[Part]:
        """The parts that carry ``media`` of ``message`` to the agent (none for a sticker when
        stickers are off)."""
        if message.type is MessageType.STICKER and not self._stickers:
            logger.info("sticker %s not forwarded: stickers are off", mask(message.wamid))
            return []
        fetched = self._whatsapp.fetch_media(
            message.business, media, key=f"inbound/{message.wamid}/"
        )
        declared = fetched.content_type or media.mime_type
        found = examine_stored(self._media, fetched, declared=declared, filename=media.filename)
        fetched = replace(fetched, content_type=found.content_type)
        plan = inbound_plan(
            found.content_type,
            fetched.size,
            filename=media.filename,
            voice=media.voice,
            limits=self._limits,
            stem=file_stem(message, media),
            refusal=found.refusal,
        )
        kind = "voice" if media.voice else message.type.value
        if plan.action == "notice":
            if found.refused:
                # The refusal's words quote the customer's file name: the log names the type only.
                logger.warning(
                    "file of %s refused: its bytes are %s", mask(message.wamid), found.content_type
                )
            link = self._link(fetched) if plan.link else ""
            notice = render_media_notice(
                kind, plan.name, plan.content_type, fetched.size, plan.reason, link=link
            )
            return self._texts("refusal" if found.refused else "notice", notice)
        if plan.action == "attach":
            stored = replace(fetched, content_type=plan.content_type, filename=plan.name)
            return [Part(purpose="file", media=stored, name=plan.name)]
        try:
            converted = self._converter.convert(
                fetched,
                target=plan.target,
                key=f"inbound/{message.wamid}/converted/{plan.name}",
                max_bytes=self._limits.max_bytes,
            )
        except PermanentError as exc:
            # Nothing could be converted: the agent gets the original, as a link, and why.
            original = file_name_for(
                found.content_type, filename=media.filename, stem=file_stem(message, media)
            )
            notice = render_media_notice(
                kind,
                original,
                found.content_type,
                fetched.size,
                f"it could not be converted ({exc})",
                link=self._link(fetched),
            )
            return self._texts("notice", notice)
        files = converted.files
        parts = []
        for index, file in enumerate(files):
            name = plan.name if len(files) == 1 else part_name(plan.name, index + 1, len(files))
            stored = replace(file, content_type=plan.content_type, filename=name)
            parts.append(Part(purpose="file", index=index, media=stored, name=name))
        if converted.note:
            parts += self._texts("notice", f"📎 {plan.name}: {converted.note}.")
        if converted.caption:
            parts += self._texts("sticker", converted.caption)
        if self._transcribe and plan.target == WAV16K.name:
            recording = (fetched, *(p.media for p in parts if p.media is not None))
            parts.append(Part(purpose="transcribe", recording=recording))
        return parts

    def _texts(self, purpose: str, text: str) -> list[Part]:
        return text_parts(purpose, text, self._text_limit)

    def _link(self, media: StoredMedia) -> str:
        try:
            return self._media.link(media, expires_in=NOTICE_LINK_SECONDS)
        except DeliveryError as exc:
            # The notice still names the file and why; only the download link is missing.
            logger.warning("no download link for a stored file: %s", exc.code or type(exc).__name__)
            return ""


_STEM_WORDS = {
    MessageType.IMAGE: "photo",
    MessageType.VIDEO: "video",
    MessageType.AUDIO: "audio",
    MessageType.STICKER: "sticker",
    MessageType.DOCUMENT: "document",
}


def file_stem(message: InboundMessage, media: Media) -> str:
    """A name for a file that came without one, e.g. "photo-2026-11-24-230412-9f3c" (UTC).

    WhatsApp names only documents; without the time, every photo would be "image.jpg". The last
    part comes from the wamid, so the photos of an album, sent within one second, differ too.
    """
    word = "voice-note" if media.voice else _STEM_WORDS.get(message.type, "file")
    when = message.sent_at
    tag = hashlib.sha256(message.wamid.encode("utf-8")).hexdigest()[:4]
    if when is None:
        # WhatsApp gave a time no calendar holds: the file is named without one.
        return f"{word}-{tag}"
    return f"{word}-{when:%Y-%m-%d-%H%M%S}-{tag}"
