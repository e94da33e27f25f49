"""Files as the bridge handles them: stored blobs, and what Connect and WhatsApp accept."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMedia:
    """A file in the media store: its key, exact size, content type and digest."""

    key: str
    size: int
    content_type: str
    sha256: str = ""
    filename: str = ""
