"""What a file really is, from its first bytes, and which content type to trust.

Customers' phones and agents' browsers declare content types that are sometimes wrong (a PDF
renamed ``photo.jpg``) and sometimes merely vaguer than the bytes (``application/octet-stream``).
``sniff`` reads magic numbers from the head of a file; ``reconcile`` decides between what was
declared and what was sniffed.
"""

from __future__ import annotations

import struct

from waconnect.media.dangers import ZIP_PROGRAMS, dangerous_type, sniff_dangerous
from waconnect.media.naming import canonical_type, content_type_for_name

HEAD_BYTES = 512  # how much of a file ``sniff`` needs to look at

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
OLE = "application/x-ole-storage"
OGG_OPUS = "audio/ogg; codecs=opus"

# ISO base media file format brands (the ``ftyp`` box), by what they announce.
_FTYP_BRANDS: dict[bytes, str] = {
    **dict.fromkeys([b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"], "image/heic"),
    **dict.fromkeys([b"mif1", b"msf1", b"heif"], "image/heif"),
    **dict.fromkeys([b"avif", b"avis"], "image/avif"),
    **dict.fromkeys([b"M4A ", b"M4B ", b"M4P "], "audio/mp4"),
    b"qt  ": "video/quicktime",
    **dict.fromkeys(
        [b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash"],
        "video/mp4",
    ),
    **dict.fromkeys([b"mmp4", b"MSNV", b"M4V ", b"M4VH", b"M4VP", b"f4v "], "video/mp4"),
}
_OFFICE_FOLDERS: tuple[tuple[bytes, str], ...] = (
    (b"word/", DOCX),
    (b"xl/", XLSX),
    (b"ppt/", PPTX),
)
_OGG_CODECS: tuple[tuple[bytes, str], ...] = (
    (b"OpusHead", OGG_OPUS),
    (b"\x01vorbis", "audio/ogg; codecs=vorbis"),
    (b"\x7fFLAC", "audio/ogg; codecs=flac"),
    (b"Speex   ", "audio/ogg; codecs=speex"),
    (b"\x80theora", "video/ogg"),
)
# Prefix → type, checked in order; the first match wins.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"#!AMR-WB\n", "audio/amr-wb"),
    (b"#!AMR\n", "audio/amr"),
    (b"fLaC", "audio/flac"),
    (b"{\\rtf", "application/rtf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
)
_RIFF_FORMS: dict[bytes, str] = {b"WEBP": "image/webp", b"WAVE": "audio/wav"}
# Trusted over the bytes when the bytes only show the container these types are built on.
_ZIP_BASED = frozenset(
    {
        DOCX,
        XLSX,
        PPTX,
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
        "application/epub+zip",
        "application/vnd.android.package-archive",
        "application/java-archive",
    }
)
_OLE_BASED = frozenset(
    {
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.ms-outlook",
        "application/vnd.visio",
    }
)
_ISO_MEDIA = frozenset(
    {"video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2", "audio/mp4", "audio/aac"}
)
_PLAIN_TEXT = frozenset({"text/plain", "text/csv", "text/vcard", "application/json"})
_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file announce, or None when they are not known."""
    found = sniff_dangerous(head)
    if found is not None:
        return found.content_type
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and len(head) >= 12:
        return _RIFF_FORMS.get(head[8:12])
    if head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    frame = _sniff_mpeg_audio(head)
    if frame is not None:
        return frame
    return _sniff_text(head)


def reconcile(declared: str, sniffed: str | None, filename: str) -> str:
    """The content type to trust for a file, given what was declared, sniffed and named.

    The bytes win over a declaration that contradicts them (a PDF declared as ``image/jpeg`` is a
    PDF). Where the bytes show only a container — a zip, an OLE compound file, an ISO media
    file, plain text — a declared type (or else the file name's) built on that container is
    kept, since it says more than the bytes can. Bytes no sniffer recognises are
    ``application/octet-stream`` whatever was declared: a declaration alone never makes a file
    a document or an image. A program, script or archive stays what its bytes say.
    """
    declared_type = canonical_type(declared)
    if declared_type in _GENERIC:
        declared_type = ""
    named = content_type_for_name(filename) or ""
    if sniffed is None:
        return "application/octet-stream"
    sniffed_type = canonical_type(sniffed)
    if dangerous_type(sniffed_type) is not None:
        return sniffed_type
    for candidate in (declared_type, named):
        if candidate == sniffed_type:
            return sniffed
        if candidate and _refines(candidate, sniffed_type):
            return declared.strip() if candidate == declared_type else candidate
    return sniffed


def _refines(candidate: str, sniffed: str) -> bool:
    """True when ``candidate`` is a more precise name for what the bytes of ``sniffed`` show."""
    if sniffed == "application/zip":
        return candidate in _ZIP_BASED
    if sniffed == OLE:
        return candidate in _OLE_BASED
    if sniffed in {"text/plain", "text/csv"}:
        # Only text types that nothing runs: a declared text/javascript stays plain text.
        return candidate in _PLAIN_TEXT
    if sniffed in _ISO_MEDIA:
        # The brand says which family; whether the track inside is sound only, the declared
        # type knows better (WhatsApp audio is often an "isom" file declared audio/mp4).
        return candidate.startswith("audio/") and candidate in _ISO_MEDIA
    return False


def _sniff_ftyp(head: bytes) -> str | None:
    brands = [head[8:12]]
    size = struct.unpack(">I", head[0:4])[0]
    end = min(max(size, 16), len(head))
    brands += [head[offset : offset + 4] for offset in range(16, end - 3, 4)]
    major = brands[0]
    if major.startswith(b"3g2"):
        return "video/3gpp2"
    if major.startswith((b"3gp", b"3ge", b"3gg", b"3gs")):
        return "video/3gpp"
    if major in _FTYP_BRANDS:
        found = _FTYP_BRANDS[major]
        # A HEIF image names its codec among the compatible brands.
        if found == "image/heif" and any(_FTYP_BRANDS.get(b) == "image/heic" for b in brands):
            return "image/heic"
        return found
    for brand in brands[1:]:
        if brand in _FTYP_BRANDS:
            return _FTYP_BRANDS[brand]
    return "video/mp4"


def _sniff_ogg(head: bytes) -> str:
    if len(head) > 27:
        payload = head[27 + head[26] :]
        for marker, content_type in _OGG_CODECS:
            if payload.startswith(marker):
                return content_type
    return "audio/ogg"


def _sniff_zip(head: bytes) -> str:
    names = []
    offset = 0
    # Walk the local file headers that fit in the head; stop at one whose size is deferred.
    while head[offset : offset + 4] == b"PK\x03\x04" and offset + 30 <= len(head):
        flags, compressed, name_len, extra_len = struct.unpack_from("<H10xI4xHH", head, offset + 6)
        name = head[offset + 30 : offset + 30 + name_len]
        names.append(name)
        if name == b"mimetype" and compressed < 100:
            start = offset + 30 + name_len + extra_len
            declared = head[start : start + compressed].decode("ascii", "replace")
            if declared.startswith("application/"):
                return declared
        if flags & 0x08:
            break
        offset += 30 + name_len + extra_len + compressed
    for marker, found in ZIP_PROGRAMS:
        if any(name == marker for name in names) or marker in head:
            return found.content_type
    for folder, content_type in _OFFICE_FOLDERS:
        if any(name.startswith(folder) for name in names) or folder in head:
            return content_type
    return "application/zip"


def _sniff_mpeg_audio(head: bytes) -> str | None:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer = (head[1] >> 1) & 0x03
    if head[1] & 0xF0 == 0xF0 and layer == 0:
        # ADTS: 12 sync bits, layer always 0; sampling index 13-15 are reserved.
        return "audio/aac" if (head[2] >> 2) & 0x0F < 13 else None
    version = (head[1] >> 3) & 0x03
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0x03
    if layer == 0 or version == 1 or bitrate in {0, 0x0F} or sample_rate == 3:
        return None
    return "audio/mpeg"


def _sniff_text(head: bytes) -> str | None:
    if not head or b"\x00" in head:
        return None
    body = head.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The head may cut a multi-byte character in two.
        if exc.start < len(body) - 3:
            return None
        text = body[: exc.start].decode("utf-8")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")
    if controls > len(text) // 100:
        return None
    return "text/csv" if _looks_like_csv(text, complete=len(head) < HEAD_BYTES) else "text/plain"


def _looks_like_csv(text: str, *, complete: bool) -> bool:
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut short
    lines = [line for line in lines if line.strip()]
    if len(lines) < 2:
        return False
    for delimiter in (",", ";", "\t"):
        counts = {line.count(delimiter) for line in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return True
    return False
