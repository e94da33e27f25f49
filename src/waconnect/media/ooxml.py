"""Is a file that claims to be a Word, Excel or PowerPoint document really one, and safe to open?

An OOXML document is a zip with a fixed skeleton: ``[Content_Types].xml``, ``_rels/.rels`` and a
main part in the folder of its kind. Anything can be zipped and renamed ``.docx``, and a zip can
hold gigabytes of zeros in a few kilobytes (a "zip bomb") that fill a desktop's disk when the
agent opens it. The check reads every member to its end — bounded by the sizes the zip declares,
which zipfile enforces together with each member's CRC — so lies are found without trusting them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from waconnect.media.sniff import DOCX, PPTX, XLSX

MB = 1024 * 1024
# What a genuine document expands to: a 200-page report with photos is far below this.
MAX_EXPANDED_BYTES = 256 * MB
# Text-heavy documents compress up to ~20×; a member above this ratio is manufactured.
MAX_RATIO = 200
_RATIO_FLOOR = 1 * MB  # small members may compress far better (a blank sheet)
_READ = 256 * 1024

_MAIN_PARTS: dict[str, tuple[str, str]] = {
    DOCX: ("word/document.xml", "a Word document"),
    XLSX: ("xl/workbook.xml", "an Excel workbook"),
    PPTX: ("ppt/presentation.xml", "a PowerPoint presentation"),
}
_SKELETON = ("[Content_Types].xml", "_rels/.rels")

OOXML_TYPES = frozenset(_MAIN_PARTS)


def ooxml_problem(path: Path, content_type: str) -> str:
    """Why the file at ``path`` is not a safe ``content_type`` document; ``""`` when it is."""
    main, what = _MAIN_PARTS[content_type]
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            missing = [part for part in (*_SKELETON, main) if part not in names]
            if missing:
                return f"it is a zip file, not {what} (it has no {missing[0]})"
            declared = sum(member.file_size for member in members)
            if declared > MAX_EXPANDED_BYTES:
                return _bomb(declared)
            for member in members:
                if member.file_size > _RATIO_FLOOR and member.file_size > MAX_RATIO * max(
                    member.compress_size, 1
                ):
                    return _bomb(declared)
            for member in members:
                with archive.open(member) as stream:
                    while stream.read(_READ):
                        pass
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        return f"it is not {what}: the zip inside is damaged ({type(exc).__name__})"
    except RuntimeError as exc:
        # zipfile raises RuntimeError for an encrypted member.
        return f"it is not {what} that can be opened ({exc})"
    return ""


def _bomb(expanded: int) -> str:
    return (
        f"it would expand to {expanded // MB} MB when opened (a zip bomb), far more than any "
        "real document"
    )
