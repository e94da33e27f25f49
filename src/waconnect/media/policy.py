"""The media policy: what becomes of a file on its way to Connect, and on its way to WhatsApp.

Both directions are decided from tables, before any conversion or upload: what Connect accepts
is a setting (``ConnectLimits``, from Connect's documented defaults), what WhatsApp accepts per
message kind is Meta's published limits. A plan says what to do and, when the file cannot go,
why — in words a notice to the agent can quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, TypeVar

from waconnect.domain.outgoing import MediaKind
from waconnect.media.naming import base_type, canonical_type, extension_for, file_name_for

MB = 1024 * 1024

# Connect's documented defaults; UpdateAttachedFilesConfiguration changes them per instance.
CONNECT_DEFAULT_EXTENSIONS = frozenset(
    {
        ".csv", ".doc", ".docx", ".heic", ".jfif", ".jpeg", ".jpg", ".mov", ".mp4", ".pdf",
        ".png", ".ppt", ".pptx", ".rtf", ".txt", ".wav", ".xls", ".xlsx",
    }
)  # fmt: skip
CONNECT_DEFAULT_MAX_BYTES = 20 * MB

_T = TypeVar("_T")

InboundAction = Literal["attach", "convert", "notice"]
OutboundAction = Literal["send", "convert", "notice"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectLimits:
    """What the Connect instance accepts as chat attachments."""

    allowed_extensions: frozenset[str] = field(default=CONNECT_DEFAULT_EXTENSIONS)
    max_bytes: int = CONNECT_DEFAULT_MAX_BYTES

    def allows(self, extension: str) -> bool:
        return extension.lower() in self.allowed_extensions


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A conversion the bridge can run: the converter's target name and what it produces."""

    name: str
    content_type: str
    extension: str


WAV16K = Target(name="wav16k", content_type="audio/wav", extension=".wav")
OGG_OPUS = Target(name="ogg-opus", content_type="audio/ogg", extension=".ogg")
PNG = Target(name="png", content_type="image/png", extension=".png")
JPEG = Target(name="jpeg", content_type="image/jpeg", extension=".jpg")
MP4 = Target(name="mp4", content_type="video/mp4", extension=".mp4")

# Inbound: files Connect would refuse that the bridge converts, by type or by type family.
_INBOUND_CONVERSIONS: dict[str, Target] = {
    "audio/": WAV16K,
    "image/webp": PNG,  # stickers; an animated one becomes its first frame
    "image/gif": PNG,
    "video/": MP4,  # 3gp, webm, mkv
}

# Outbound: what WhatsApp sends as a media message of its own kind, and up to which size.
_OUTBOUND_KINDS: dict[str, tuple[MediaKind, int]] = {
    "image/jpeg": (MediaKind.IMAGE, 5 * MB),
    "image/png": (MediaKind.IMAGE, 5 * MB),
    "video/mp4": (MediaKind.VIDEO, 16 * MB),
    "video/3gpp": (MediaKind.VIDEO, 16 * MB),
}
_OUTBOUND_CONVERSIONS: dict[str, tuple[MediaKind, Target]] = {
    "audio/": (MediaKind.AUDIO, OGG_OPUS),
    # heic, webp, gif, jfif..., and JPEG/PNG over 5 MB: a JPEG recompressed to fit.
    "image/": (MediaKind.IMAGE, JPEG),
    # mov, webm, mkv, and MP4 over 16 MB: H.264 + AAC at a bit rate that fits.
    "video/": (MediaKind.VIDEO, MP4),
}
_OUTBOUND_MAX_BYTES = {MediaKind.AUDIO: 16 * MB, MediaKind.IMAGE: 5 * MB, MediaKind.VIDEO: 16 * MB}
WHATSAPP_DOCUMENT_MAX_BYTES = 100 * MB
# The types an agent's file is sent as a document in (Meta's upload list for documents, plus CSV
# and RTF, which it accepts as text). WhatsApp refuses uploads of types outside its lists
# (application/octet-stream included): a zip or a .mov as it is never goes out.
WHATSAPP_DOCUMENT_TYPES = frozenset(
    {
        "text/plain", "text/csv", "application/rtf", "application/pdf", "application/msword",
        "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)  # fmt: skip

# What WhatsApp uploads (up to its document limit) and a document message carries, though its own
# kind has a lower limit: a photo or a video that cannot be made to fit it goes as a document.
_DOCUMENT_INSTEAD = frozenset({"image/jpeg", "image/png", "video/mp4", "video/3gpp"})

# Names for files that arrive without one.
_STEMS: dict[str, str] = {"image/": "image", "video/": "video", "audio/": "audio"}
_WHAT: dict[str, str] = {"image/webp": "a sticker", "video/3gpp": "a 3GP video"}


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundPlan:
    """What to do with a customer's file: attach it, convert it first, or tell the agent why not.

    ``name`` and ``content_type`` describe what reaches Connect (the converted file when
    converting); for a notice they describe the original file.
    """

    action: InboundAction
    name: str
    content_type: str
    target: str = ""
    reason: str = ""
    # A refused file (a program in disguise, a bomb) gets no download link in the notice.
    link: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundPlan:
    """How an agent's file goes to WhatsApp: as which kind of message, after which conversion.

    ``content_type`` is the type the file is uploaded with. A ``notice`` says in ``reason`` why
    WhatsApp would refuse the file, and ``too_large`` whether its size (not its type) is why.
    """

    kind: MediaKind
    action: OutboundAction
    filename: str
    content_type: str
    target: str = ""
    voice: bool = False
    reason: str = ""
    too_large: bool = False
    max_bytes: int = 0  # the size a conversion must fit


def inbound_plan(
    content_type: str,
    size: int,
    *,
    filename: str = "",
    voice: bool = False,
    limits: ConnectLimits | None = None,
    stem: str = "",
    refusal: str = "",
) -> InboundPlan:
    """Plan the journey of a customer's file of ``content_type`` and ``size`` bytes to Connect.

    ``refusal`` (from ``examine``) says why the file must not reach anyone: the plan is then a
    notice without a download link.
    """
    limits = limits or ConnectLimits()
    kind = canonical_type(content_type)
    stem = stem or ("voice-note" if voice else _by_family(_STEMS, kind) or "file")
    name = file_name_for(kind, filename=filename, stem=stem)
    extension = extension_for(kind) or _extension(name)

    def notice(reason: str) -> InboundPlan:
        return InboundPlan(action="notice", name=name, content_type=kind, reason=reason)

    if size <= 0:
        # Nothing to attach or download: the notice names the file as the customer did.
        named = file_name_for("", filename=filename, stem=stem)
        return InboundPlan(
            action="notice", name=named, content_type=kind, reason="the file is empty", link=False
        )
    if refusal:
        return InboundPlan(
            action="notice", name=name, content_type=kind, reason=refusal, link=False
        )
    if extension and limits.allows(extension):
        if size > limits.max_bytes:
            return notice(f"over the {_megabytes(limits.max_bytes)} MB limit")
        return InboundPlan(action="attach", name=name, content_type=kind)
    target = _INBOUND_CONVERSIONS.get(kind) or _by_family(_INBOUND_CONVERSIONS, kind)
    if target is not None and limits.allows(target.extension):
        return InboundPlan(
            action="convert",
            target=target.name,
            name=file_name_for(target.content_type, filename=name, stem=stem),
            content_type=target.content_type,
        )
    what = _WHAT.get(kind) or (f"a {extension} file" if extension else f"a file of type {kind}")
    return notice(f"{what}, which Connect does not accept")


def outbound_plan(
    content_type: str, size: int, *, name: str = "", refusal: str = ""
) -> OutboundPlan:
    """Plan how an agent's file of ``content_type`` and ``size`` bytes reaches the customer.

    JPEG/PNG up to 5 MB go as images, MP4/3GP up to 16 MB as videos, audio as an OGG/Opus voice
    note, the document types WhatsApp takes (PDF, Office, text) as documents with their names up
    to 100 MB. Other images (HEIC, WebP, a larger photo) become a JPEG that fits, other videos
    (.mov, a larger MP4) an MP4 that fits. Anything else (a zip...) WhatsApp would refuse, as
    anything ``examine`` refused (``refusal``): the plan is a notice naming why. ``size`` must be
    the real size of the stored file.
    """
    kind = canonical_type(content_type)
    if refusal and size > 0:
        return OutboundPlan(
            kind=MediaKind.DOCUMENT,
            action="notice",
            filename=file_name_for(kind, filename=name, stem="document"),
            content_type=kind,
            reason=refusal,
        )
    sendable = _OUTBOUND_KINDS.get(kind)
    if sendable is not None and 0 < size <= sendable[1]:
        return OutboundPlan(
            kind=sendable[0],
            action="send",
            filename=file_name_for(kind, filename=name, stem=sendable[0].value),
            content_type=kind,
        )
    conversion = _OUTBOUND_CONVERSIONS.get(kind) or _by_family(_OUTBOUND_CONVERSIONS, kind)
    if conversion is not None and size > 0:
        media_kind, target = conversion
        voice = media_kind is MediaKind.AUDIO
        return OutboundPlan(
            kind=media_kind,
            action="convert",
            target=target.name,
            voice=voice,
            filename=file_name_for(
                target.content_type, filename=name, stem="voice-note" if voice else media_kind.value
            ),
            content_type=target.content_type,
            max_bytes=_OUTBOUND_MAX_BYTES[media_kind],
        )
    filename = file_name_for(kind, filename=name, stem="document")
    too_large = size > WHATSAPP_DOCUMENT_MAX_BYTES or (sendable is not None and size > 0)
    if size <= 0:
        reason = "the file is empty"
    elif size > WHATSAPP_DOCUMENT_MAX_BYTES:
        reason = f"over WhatsApp's {_megabytes(WHATSAPP_DOCUMENT_MAX_BYTES)} MB document limit"
    elif kind in WHATSAPP_DOCUMENT_TYPES:
        return OutboundPlan(
            kind=MediaKind.DOCUMENT, action="send", filename=filename, content_type=kind
        )
    elif sendable is not None:
        reason = (
            f"over WhatsApp's {_megabytes(sendable[1])} MB limit for {sendable[0].value}s, "
            "and WhatsApp takes no other type of this kind as a document"
        )
    else:
        reason = (
            f"WhatsApp does not accept {kind or 'this type of'} files; it takes documents as "
            "PDF, Word, Excel, PowerPoint, text or CSV"
        )
    return OutboundPlan(
        kind=MediaKind.DOCUMENT,
        action="notice",
        filename=filename,
        content_type=kind,
        reason=reason,
        too_large=too_large,
    )


def document_instead(
    plan: OutboundPlan, content_type: str, size: int, *, name: str = "", does_not_fit: bool
) -> OutboundPlan | None:
    """How a photo or a video whose conversion for ``plan`` failed reaches the customer instead:
    as a document, or None when it cannot.

    ``does_not_fit``: the conversion could not make it small enough (not a damaged file). A
    video is then converted again within WhatsApp's document limit; otherwise the original goes
    as it is, when WhatsApp takes its type (JPEG, PNG, MP4, 3GP) and it is within that limit.
    """
    if plan.kind not in (MediaKind.IMAGE, MediaKind.VIDEO):
        return None
    if plan.kind is MediaKind.VIDEO and does_not_fit:
        return replace(plan, kind=MediaKind.DOCUMENT, max_bytes=WHATSAPP_DOCUMENT_MAX_BYTES)
    kind = canonical_type(content_type)
    if kind not in _DOCUMENT_INSTEAD or not 0 < size <= WHATSAPP_DOCUMENT_MAX_BYTES:
        return None
    return OutboundPlan(
        kind=MediaKind.DOCUMENT,
        action="send",
        filename=file_name_for(kind, filename=name, stem=plan.kind.value),
        content_type=kind,
    )


def _by_family(table: dict[str, _T], content_type: str) -> _T | None:
    """The entry for ``content_type``'s family (``"audio/"``) in ``table``, if any."""
    family = base_type(content_type).split("/", 1)[0] + "/"
    return table.get(family)


def _extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _megabytes(size: int) -> str:
    return f"{size / MB:g}"
