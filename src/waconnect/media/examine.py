"""What a file really is, and whether it may cross the bridge at all, before any policy applies.

From the head: the sniffed type, reconciled with what was declared and named; a program, script
or archive is refused whatever it claims. From the whole file, for the types whose danger hides
deeper: an Office document must be real OOXML that does not expand without bound, and an image
must not claim more pixels than any camera makes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from waconnect.domain.media import StoredMedia
from waconnect.media.dangers import dangerous_type
from waconnect.media.naming import canonical_type, content_type_for_name
from waconnect.media.ooxml import OOXML_TYPES, ooxml_problem
from waconnect.media.sniff import HEAD_BYTES, reconcile, sniff

if TYPE_CHECKING:
    # Only named in signatures: `waconnect media` examines files without loading the ports.
    from waconnect.ports import MediaStore

_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# Image types whose pixels Pillow decodes (an SVG is refused as a script before this).
_PIXEL_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Examination:
    """The type to trust for a file, what its bytes showed, and why it is refused (if it is)."""

    content_type: str
    sniffed: str | None
    refusal: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.refusal)


def judge_head(head: bytes, *, declared: str, filename: str) -> Examination:
    """What the first ``HEAD_BYTES`` of a file say it is, and whether that alone refuses it."""
    sniffed = sniff(head[:HEAD_BYTES])
    content_type = reconcile(declared, sniffed, filename)
    danger = dangerous_type(content_type)
    if danger is None:
        return Examination(content_type=content_type, sniffed=sniffed)
    claimed = _claimed_type(declared, filename)
    if claimed and claimed != danger.content_type:
        named = f"“{filename}”" if content_type_for_name(filename) else claimed
        refusal = f"it is {danger.what} disguised as {named}"
    else:
        refusal = f"it is {danger.what}; programs, scripts and archives are not passed on"
    return Examination(content_type=content_type, sniffed=sniffed, refusal=refusal)


def examine_file(path: Path, *, declared: str, filename: str) -> Examination:
    """``judge_head`` and the whole-file checks for a file on disk."""
    with path.open("rb") as source:
        head = source.read(HEAD_BYTES)
    found = judge_head(head, declared=declared, filename=filename)
    if found.refused:
        return found
    kind = canonical_type(found.content_type)
    problem = ""
    if kind in OOXML_TYPES:
        problem = ooxml_problem(path, kind)
    elif kind in _PIXEL_TYPES:
        from waconnect.media.images import image_problem  # noqa: PLC0415 - Pillow on demand

        problem = image_problem(path)
    if problem:
        return Examination(content_type=found.content_type, sniffed=found.sniffed, refusal=problem)
    return found


def examine_stored(
    store: MediaStore,
    media: StoredMedia,
    *,
    declared: str,
    filename: str,
    workdir: Path | None = None,
) -> Examination:
    """``examine_file`` for a file in the media store, copied to a temporary file when needed."""
    head = b""
    with store.open(media) as chunks:
        for chunk in chunks:
            head += chunk
            if len(head) >= HEAD_BYTES:
                break
    found = judge_head(head, declared=declared, filename=filename)
    kind = canonical_type(found.content_type)
    if found.refused or (kind not in OOXML_TYPES and kind not in _PIXEL_TYPES):
        return found
    with tempfile.TemporaryDirectory(prefix="waconnect-", dir=workdir) as tmp:
        path = Path(tmp) / "examined"
        with store.open(media) as chunks, path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
        return examine_file(path, declared=declared, filename=filename)


def _claimed_type(declared: str, filename: str) -> str:
    """What the file pretends to be: its declared type, else its name's."""
    kind = canonical_type(declared)
    if kind in _GENERIC:
        kind = content_type_for_name(filename) or ""
    return kind
