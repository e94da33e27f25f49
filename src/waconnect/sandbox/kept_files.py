"""``--keep DIR``: every file that crossed the bridge during a replay, copied under its own name."""

from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waconnect.sandbox.cloud import Cloud
    from waconnect.sandbox.state_api import StoredFile

logger = logging.getLogger(__name__)


class FileKeeper:
    """Files written under ``root``, named by who received them, never overwriting each other.

    Names are prefixed by who received the file (``agent-``, ``customer-`` for WhatsApp
    sends, ``from-customer-`` for the customer's own media) and made unique with a counter.
    Files are copied from where the emulators keep them, never read whole into memory.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._names: set[str] = set()
        self._written: list[Path] = []

    @property
    def written(self) -> tuple[Path, ...]:
        with self._lock:
            return tuple(self._written)

    def copy(self, name: str, source: Path) -> Path:
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name).lstrip(".") or "file"
        with self._lock:
            candidate, counter = safe, 1
            while candidate in self._names:
                counter += 1
                stem, dot, suffix = safe.partition(".")
                candidate = f"{stem}-{counter}{dot}{suffix}"
            self._names.add(candidate)
            self._root.mkdir(parents=True, exist_ok=True)
            path = self._root / candidate
            shutil.copyfile(source, path)
            self._written.append(path)
        return path

    def keep(self, line: dict[str, Any], cloud: Cloud) -> None:
        """Copy the file an effect line names (by its digest), if the emulators hold it."""
        digest = line.get("sha256")
        if not isinstance(digest, str):
            return
        source = _crossed_file(cloud, line, digest)
        if source is None:
            logger.warning("--keep: no stored file for a %s %s line", line["to"], line["kind"])
            return
        name = line.get("attachment") or f"{line['kind']}{_suffix(line.get('content_type'))}"
        self.copy(f"{line['to']}-{name}", source)


def _crossed_file(cloud: Cloud, line: dict[str, Any], digest: str) -> Path | None:
    """Where the bytes behind an effect line are, among the files the emulators hold."""
    candidates: list[Callable[[], StoredFile]] = []
    contact_id = line.get("contact_id")
    if line["to"] == "agent" and isinstance(contact_id, str):
        connect = cloud.connect_view
        for item in connect.transcript(contact_id):
            if item.attachment_id:
                candidates.append(functools.partial(connect.attachment, item.attachment_id))
    elif line["to"] == "customer":
        whatsapp = cloud.whatsapp_view
        for body in reversed(cloud.sent_messages()):
            media = body.get(line["kind"])
            if isinstance(media, dict) and "id" in media:
                candidates.append(functools.partial(whatsapp.media, str(media["id"])))
    for stored in candidates:
        try:
            path = stored().path
        except KeyError:
            continue
        with path.open("rb") as file:
            if hashlib.file_digest(file, "sha256").hexdigest() == digest:
                return path
    return None


def _suffix(content_type: object) -> str:
    if not isinstance(content_type, str):
        return ""
    base = content_type.split(";", 1)[0].strip()
    return {"audio/ogg": ".ogg", "image/jpeg": ".jpg"}.get(base) or (
        mimetypes.guess_extension(base) or ""
    )
