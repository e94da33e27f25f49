"""What a file travels as: its MIME type from its name, and the WhatsApp message type it makes."""

from __future__ import annotations

import mimetypes
from pathlib import Path

# Fixed here rather than left to ``mimetypes`` alone: its table depends on the machine, and a
# replay must read the same on every machine.
_MIME_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jfif": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".rtf": "application/rtf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".amr": "audio/amr",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".3gp": "video/3gpp",
    ".vcf": "text/vcard",
}


def guess_mime_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _MIME_BY_SUFFIX:
        return _MIME_BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(path.name, strict=True)
    return guessed or "application/octet-stream"


def guess_media_kind(mime_type: str) -> str:
    """The WhatsApp message type a customer's file travels as."""
    base = mime_type.split(";", 1)[0].strip().lower()
    if base == "image/webp":
        return "sticker"
    top = base.split("/", 1)[0]
    if top in ("image", "video", "audio"):
        return top
    return "document"
