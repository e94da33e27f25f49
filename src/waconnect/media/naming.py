"""Content types and file names: which extension a type gets, and names safe to hand to anyone.

A file name travels from a customer's phone to an agent's desktop and back: it must not carry a
path, control characters, a bidirectional override that hides its real extension, or a name a
Windows desktop refuses. Its extension must match what the bytes are, because Connect accepts or
refuses attachments by extension.
"""

from __future__ import annotations

import re
import unicodedata

# Preferred extension first; the others are accepted as equivalent on an incoming name.
_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg", ".jfif", ".jpe"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic",),
    "image/heif": (".heif",),
    "image/avif": (".avif",),
    "application/pdf": (".pdf",),
    "application/msword": (".doc",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.ms-powerpoint": (".ppt",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/vnd.oasis.opendocument.presentation": (".odp",),
    "application/rtf": (".rtf",),
    "application/zip": (".zip",),
    "application/json": (".json",),
    "text/plain": (".txt", ".text", ".log"),
    "text/csv": (".csv",),
    "text/vcard": (".vcf", ".vcard"),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov", ".qt"),
    "video/3gpp": (".3gp",),
    "video/3gpp2": (".3g2",),
    "video/webm": (".webm",),
    "video/x-matroska": (".mkv",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/wav": (".wav", ".wave"),
    "audio/mpeg": (".mp3",),
    "audio/mp4": (".m4a",),
    "audio/aac": (".aac",),
    "audio/amr": (".amr",),
    "audio/amr-wb": (".awb",),
    "audio/flac": (".flac",),
    "application/octet-stream": (".bin",),
}

# Spellings seen in the wild for the types above.
_ALIASES: dict[str, str] = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/jfif": "image/jpeg",
    "image/x-png": "image/png",
    "image/heic-sequence": "image/heic",
    "image/heif-sequence": "image/heif",
    "text/rtf": "application/rtf",
    "application/x-rtf": "application/rtf",
    "application/x-zip-compressed": "application/zip",
    "text/comma-separated-values": "text/csv",
    "application/csv": "text/csv",
    "text/x-vcard": "text/vcard",
    "text/directory": "text/vcard",
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/vnd.wave": "audio/wav",
    "audio/opus": "audio/ogg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/mp3": "audio/mpeg",
    "audio/x-mp3": "audio/mpeg",
    "audio/x-aac": "audio/aac",
    "audio/aacp": "audio/aac",
    "audio/3gpp": "video/3gpp",
    "audio/3gpp2": "video/3gpp2",
    "audio/x-flac": "audio/flac",
    "video/x-m4v": "video/mp4",
    "application/x-pdf": "application/pdf",
}

_BY_EXTENSION: dict[str, str] = {
    ext: content_type for content_type, exts in _EXTENSIONS.items() for ext in exts
}

MAX_NAME_CHARS = 128  # Connect allows 256; agents' desktops and WhatsApp show far less
_MAX_NAME_BYTES = 255  # what most file systems accept for one path component

_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
_UNSAFE = re.compile(r"[<>:\"'`/\\|?*]")
_SPACES = re.compile(r"\s+")


def base_type(content_type: str) -> str:
    """A content type without its parameters, lower-cased (``"audio/ogg; codecs=opus"``)."""
    return content_type.split(";", 1)[0].strip().lower()


def canonical_type(content_type: str) -> str:
    """The one spelling this package uses for a type (``audio/x-wav`` → ``audio/wav``)."""
    base = base_type(content_type)
    return _ALIASES.get(base, base)


def extension_for(content_type: str) -> str:
    """The preferred extension for a content type (with its dot), or ``""`` when unknown."""
    exts = _EXTENSIONS.get(canonical_type(content_type))
    return exts[0] if exts else ""


def content_type_for_name(filename: str) -> str | None:
    """The content type a file name's extension stands for, or None when it is unknown."""
    return _BY_EXTENSION.get(_extension_of(filename))


def file_name_for(content_type: str, *, filename: str = "", stem: str = "file") -> str:
    """A safe file name for a file of ``content_type``, derived from ``filename`` when it has one.

    Paths, control and formatting characters, quotes and characters Windows refuses are removed;
    a reserved device name gets a prefix; the name is NFC-normalised and shortened, keeping its
    extension. The extension is the content type's: an equivalent one on ``filename`` is kept
    (``.jpeg``), a wrong or missing one is replaced. For an unknown type a harmless extension of
    ``filename`` is kept.
    """
    cleaned = _clean(filename)
    current = _extension_of(cleaned)
    wanted = _EXTENSIONS.get(canonical_type(content_type), ())
    # An unknown type keeps the name's own extension: it is all we know.
    extension = (current if current in wanted else wanted[0]) if wanted else current
    body = cleaned[: len(cleaned) - len(current)] if current else cleaned
    body = body.strip(" .") or _clean(stem).strip(" .") or "file"
    if body.lower() in _RESERVED or body.split(".", 1)[0].lower() in _RESERVED:
        body = f"_{body}"
    return _shorten(body, extension)


def _extension_of(filename: str) -> str:
    """The lower-cased last extension of a bare name (``".pdf"``), or ``""``."""
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    dot = name.rfind(".")
    if dot <= 0 or dot == len(name) - 1:
        return ""
    extension = name[dot:].lower()
    # A "name.with spaces in it" has no extension.
    return extension if re.fullmatch(r"\.[a-z0-9]{1,8}", extension) else ""


def _clean(filename: str) -> str:
    name = unicodedata.normalize("NFC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Cc: control characters; Cf: formatting, including the right-to-left override that makes
    # "invoice\u202efdp.exe" display as "invoiceexe.pdf".
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co", "Cn"} or char.isspace()
    )
    name = _UNSAFE.sub("_", name)
    return _SPACES.sub(" ", name).strip(" .")


def _shorten(body: str, extension: str) -> str:
    room = MAX_NAME_CHARS - len(extension)
    body = body[:room].rstrip(" .") or "file"
    while len((body + extension).encode("utf-8")) > _MAX_NAME_BYTES:
        body = body[:-1]
    return (body.rstrip(" .") or "file") + extension
