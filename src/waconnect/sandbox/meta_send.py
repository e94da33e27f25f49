"""Checks a Meta Cloud API send body as WhatsApp would, and says what it sends."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from waconnect.sandbox import limits
from waconnect.sandbox.protocol import ApiError

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
_KINDS = frozenset(
    {*MEDIA_KINDS, "text", "reaction", "interactive", "location", "template", "contacts"}
)
_INTERACTIVE_TYPES = frozenset(
    {"button", "list", "cta_url", "product", "product_list", "flow", "location_request_message"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFacts:
    mime_type: str
    size: int
    owner: str
    codec: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """What one send body asks WhatsApp to do, in the journal's words."""

    kind: str
    to: str = ""
    text: str | None = None
    media_id: str | None = None
    filename: str | None = None
    emoji: str | None = None
    reply_to: str | None = None
    link: str | None = None  # a media send by URL: WhatsApp fetches it


@dataclass(frozen=True, slots=True, kw_only=True)
class _Base:
    to: str
    reply_to: str | None


def _check_options(payload: dict[str, Any]) -> None:
    """Reply buttons (1–3, titles up to 20 characters, each title once) and list rows (1–10 in
    all, titles up to 24, descriptions up to 72), as the Cloud API refuses them."""
    action = payload.get("action")
    if payload.get("type") not in {"button", "list"}:
        return
    if not isinstance(action, dict):
        raise _bad("The parameter interactive['action'] is required.")
    if payload["type"] == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _bad("Param interactive['action']['buttons'] must have 1 to 3 buttons.")
        replies = [b.get("reply") if isinstance(b, dict) else None for b in buttons]
        titles = []
        for reply in replies:
            if not isinstance(reply, dict):
                raise _bad("The parameter interactive['action']['buttons'][]['reply'] is required.")
            _text_field(reply, "id", "reply", 256)
            titles.append(_text_field(reply, "title", "reply", 20))
        if len(set(titles)) != len(titles):
            raise _bad("Button titles must be unique.")
        return
    _text_field(action, "button", "action", 20)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _bad("The parameter interactive['action']['sections'] is required.")
    rows = [r for s in sections if isinstance(s, dict) for r in s.get("rows") or []]
    if not 1 <= len(rows) <= 10:
        raise _bad("Param interactive['action']['sections'] must have 1 to 10 rows in all.")
    for row in rows:
        if not isinstance(row, dict):
            raise _bad("Param interactive['action']['sections'][]['rows'] must hold objects.")
        _text_field(row, "id", "row", 200)
        _text_field(row, "title", "row", 24)
        description = row.get("description", "")
        if not isinstance(description, str) or len(description) > 72:
            raise _bad("Param row['description'] must be at most 72 characters long.")


def _bad(message: str) -> ApiError:
    return ApiError("InvalidParametersException", f"(#100) {message}", 400)


def _text_field(obj: Mapping[str, Any], name: str, where: str, limit: int) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise _bad(f"The parameter {where}['{name}'] is required.")
    if len(value) > limit:
        raise _bad(f"Param {where}['{name}'] must be at most {limit} characters long.")
    return value


_PHONE_WRITTEN = re.compile(r"\+?[0-9][0-9 ().-]*[0-9]")


def check_send_body(
    body: Any, *, phone_number: str, media: Callable[[str], MediaFacts | None]
) -> Outgoing:
    if not isinstance(body, dict):
        raise ApiError("ValidationException", "message must be a JSON object", 400)
    if body.get("messaging_product") != "whatsapp":
        raise _bad("The parameter messaging_product is required and must be 'whatsapp'.")
    if "status" in body:
        return _check_status(body)
    to = body.get("to") or body.get("recipient")
    if not isinstance(to, str) or not to:
        raise _bad("The parameter to is required.")
    # WhatsApp takes a phone number as written ("+1 555-010-0001"): its wa_id is the digits.
    if _PHONE_WRITTEN.fullmatch(to):
        to = re.sub(r"\D", "", to)
    kind = body.get("type", "text")
    if kind not in _KINDS:
        raise _bad(f"Param type must be one of {sorted(_KINDS)}.")
    payload = body.get(kind)
    if not isinstance(payload, dict | list):
        raise _bad(f"The parameter {kind} is required.")
    context = body.get("context")
    reply_to = None
    if context is not None:
        if not isinstance(context, dict) or not isinstance(context.get("message_id"), str):
            raise _bad("Param context['message_id'] is required.")
        reply_to = context["message_id"]
    base = _Base(to=to, reply_to=reply_to)
    if kind == "text":
        assert isinstance(payload, dict)
        text = _text_field(payload, "body", "text", limits.WHATSAPP_TEXT_MAX)
        return Outgoing(kind="text", text=text, to=base.to, reply_to=base.reply_to)
    if kind in MEDIA_KINDS:
        assert isinstance(payload, dict)
        return _check_media(kind, payload, base, phone_number=phone_number, media=media)
    if kind == "reaction":
        assert isinstance(payload, dict)
        message_id = _text_field(payload, "message_id", "reaction", 512)
        emoji = payload.get("emoji", "")
        if not isinstance(emoji, str):
            raise _bad("Param reaction['emoji'] must be a string.")
        return Outgoing(kind="reaction", to=to, emoji=emoji, reply_to=message_id)
    if kind == "location":
        assert isinstance(payload, dict)
        for name in ("latitude", "longitude"):
            if not isinstance(payload.get(name), int | float | str):
                raise _bad(f"The parameter location['{name}'] is required.")
        return Outgoing(
            kind="location", text=payload.get("name"), to=base.to, reply_to=base.reply_to
        )
    if kind == "interactive":
        assert isinstance(payload, dict)
        if payload.get("type") not in _INTERACTIVE_TYPES:
            raise _bad("Param interactive['type'] is invalid.")
        body_text = payload.get("body", {}).get("text") if payload.get("body") else None
        if payload.get("type") in {"button", "list"} and not body_text:
            raise _bad("The parameter interactive['body']['text'] is required.")
        _check_options(payload)
        return Outgoing(kind="interactive", text=body_text, to=base.to, reply_to=base.reply_to)
    if kind == "template":
        assert isinstance(payload, dict)
        name = _text_field(payload, "name", "template", 512)
        language = payload.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            raise _bad("The parameter template['language']['code'] is required.")
        return Outgoing(kind="template", text=name, to=base.to, reply_to=base.reply_to)
    if not payload:
        raise _bad("The parameter contacts is required.")
    return Outgoing(kind="contacts", to=base.to, reply_to=base.reply_to)


def _check_status(body: Mapping[str, Any]) -> Outgoing:
    if body.get("status") != "read":
        raise _bad("Param status must be 'read'.")
    message_id = body.get("message_id")
    if not isinstance(message_id, str) or not message_id:
        raise _bad("The parameter message_id is required.")
    indicator = body.get("typing_indicator")
    if indicator is None:
        return Outgoing(kind="read", reply_to=message_id)
    if not isinstance(indicator, dict) or indicator.get("type") != "text":
        raise _bad("Param typing_indicator['type'] must be 'text'.")
    return Outgoing(kind="typing", reply_to=message_id)


def _check_media(
    kind: str,
    payload: Mapping[str, Any],
    base: _Base,
    *,
    phone_number: str,
    media: Callable[[str], MediaFacts | None],
) -> Outgoing:
    media_id, link = payload.get("id"), payload.get("link")
    if (media_id is None) == (link is None):
        raise _bad(f"Param {kind} must have exactly one of 'id' or 'link'.")
    caption = payload.get("caption")
    if caption is not None:
        if kind in {"audio", "sticker"}:
            raise _bad(f"Param {kind}['caption'] is not allowed.")
        _text_field(payload, "caption", kind, limits.WHATSAPP_CAPTION_MAX)
    filename = payload.get("filename")
    if kind == "document" and filename is not None and not isinstance(filename, str):
        raise _bad("Param document['filename'] must be a string.")
    if link is not None:
        if not isinstance(link, str) or not link.startswith(("https://", "http://")):
            raise _bad(f"Param {kind}['link'] must be a URL.")
        return Outgoing(
            kind=kind,
            text=caption,
            filename=filename,
            to=base.to,
            reply_to=base.reply_to,
            link=link,
        )
    facts = media(str(media_id))
    if facts is None or facts.owner != phone_number:
        raise _bad(f"Param {kind}['id'] is not a valid media id for this phone number.")
    allowed, max_size = limits.WHATSAPP_MEDIA[kind]
    if kind == "document":
        allowed = limits.WHATSAPP_UPLOAD_TYPES
    mime = facts.mime_type.split(";", 1)[0].strip().lower()
    if mime not in allowed:
        raise _bad(f"Media type {mime} is not supported for {kind}.")
    if facts.size > max_size:
        raise _bad(f"Media is {facts.size} bytes, over the {kind} limit of {max_size}.")
    if kind == "audio" and payload.get("voice") and (mime != "audio/ogg" or facts.codec != "opus"):
        raise _bad("A voice note (audio['voice']) must be OGG/Opus.")
    return Outgoing(
        kind=kind,
        text=caption,
        media_id=str(media_id),
        filename=filename,
        to=base.to,
        reply_to=base.reply_to,
    )
