"""MediaStore in a local folder: streamed writes, atomic renames, keys that cannot escape.

Layout under ``root``::

    data/<key>          the bytes
    meta/<key>.json     {"content_type", "filename", "size", "sha256"}
    tmp/                files being written (renamed into place when complete)

A key is a relative path of plain segments. Anything that could name a file outside ``data/`` or
mean different things on different systems (``..``, ``.``, empty segments, absolute paths,
backslashes, drive letters or other colons, control characters) is refused with
:class:`InvalidMediaKey`, never rewritten: a silently changed key would make ``find`` miss.

Links: with ``link_base_url`` and ``link_secret`` a link is
``<base>/<key>?expires=<epoch>&signature=<hex HMAC-SHA256 of "key\\nexpires">`` which the server
that serves ``base`` checks with :meth:`FileMediaStore.verify_link`. Without them a link is the
file's ``file://`` URL: fine for the sandbox, where the person clicking is on the same machine, and
the reason a shared deployment must configure both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError

if TYPE_CHECKING:
    from waconnect.ports import Clock

logger = logging.getLogger(__name__)

READ_CHUNK_SIZE = 64 * 1024
MAX_SEGMENT_BYTES = 255
_FORBIDDEN_CHARS = frozenset("\\:\x00") | {chr(c) for c in range(0x20)} | {"\x7f"}


class InvalidMediaKey(PermanentError, ValueError):
    """A media key that is not a safe relative path; retrying will not make it one."""


class _SystemClock:
    def now(self) -> float:
        return time.time()


def check_key(key: str, *, prefix: bool = False) -> tuple[str, ...]:
    """The key's segments, or InvalidMediaKey. A prefix may end with ``/`` or be empty."""
    if not key:
        if prefix:
            return ()
        raise InvalidMediaKey("empty media key", code="InvalidKey")
    body = key[:-1] if prefix and key.endswith("/") else key
    segments = tuple(body.split("/"))
    problem = ""
    if key.startswith("/"):
        problem = "is absolute"
    elif any(ch in _FORBIDDEN_CHARS for ch in key):
        problem = "contains a backslash, colon or control character"
    elif any(s in {"", ".", ".."} for s in segments):
        problem = "has an empty, '.' or '..' segment"
    elif any(len(s.encode()) > MAX_SEGMENT_BYTES for s in segments):
        problem = "has a segment longer than 255 bytes"
    if problem:
        raise InvalidMediaKey(f"media key {key!r} {problem}", code="InvalidKey")
    return segments


class FileMediaStore:
    """Files under ``root``; see the module docstring for the layout and the links."""

    def __init__(
        self,
        root: Path,
        *,
        link_base_url: str | None = None,
        link_secret: bytes | None = None,
        clock: Clock | None = None,
    ) -> None:
        if (link_base_url is None) != (link_secret is None):
            raise ValueError("link_base_url and link_secret go together")
        self._root = Path(root)
        self._data = self._root / "data"
        self._meta = self._root / "meta"
        self._tmp = self._root / "tmp"
        self._link_base = link_base_url.rstrip("/") if link_base_url else None
        self._secret = link_secret
        self._clock = clock or _SystemClock()

    def path(self, key: str) -> Path:
        """Where the bytes of ``key`` live (for readers that need a real file, like PyAV)."""
        return self._data.joinpath(*check_key(key))

    def _meta_path(self, key: str) -> Path:
        segments = check_key(key)
        return self._meta.joinpath(*segments[:-1], segments[-1] + ".json")

    def put(
        self, key: str, chunks: Iterable[bytes], *, content_type: str, filename: str = ""
    ) -> StoredMedia:
        target = self.path(key)
        meta_target = self._meta_path(key)
        self._tmp.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        tmp_data = Path(tmp_name)
        tmp_meta = tmp_data.with_name(tmp_data.name + ".json")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            stored = StoredMedia(
                key=key,
                size=size,
                content_type=content_type,
                sha256=digest.hexdigest(),
                filename=filename,
            )
            tmp_meta.write_text(
                json.dumps(
                    {
                        "content_type": content_type,
                        "filename": filename,
                        "size": size,
                        "sha256": stored.sha256,
                    }
                ),
                encoding="utf-8",
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            meta_target.parent.mkdir(parents=True, exist_ok=True)
            # Metadata first: once the data file is visible, its description is too.
            tmp_meta.replace(meta_target)
            tmp_data.replace(target)
        except BaseException:
            for leftover in (tmp_data, tmp_meta):
                with suppress(FileNotFoundError):
                    leftover.unlink()
            raise
        return stored

    @contextmanager
    def open(self, media: StoredMedia) -> Iterator[Iterator[bytes]]:
        try:
            handle = self.path(media.key).open("rb")
        except FileNotFoundError as exc:
            raise PermanentError(f"no stored media {media.key!r}", code="NoSuchKey") from exc
        with handle:
            yield iter(lambda: handle.read(READ_CHUNK_SIZE), b"")

    def find(self, prefix: str) -> StoredMedia | None:
        segments = check_key(prefix, prefix=True)
        # Only the folder the prefix names needs walking; its last part may be partial.
        folder_segments = segments if prefix.endswith("/") else segments[:-1]
        folder = self._data.joinpath(*folder_segments)
        if not folder.is_dir():
            return None
        keys = sorted(
            key
            for key in (p.relative_to(self._data).as_posix() for p in folder.rglob("*"))
            if key.startswith(prefix) and (self._data / key).is_file()
        )
        for key in keys:
            stored = self.describe(key)
            if stored is not None:
                return stored
        return None

    def describe(self, key: str) -> StoredMedia | None:
        """The stored file's description, or None when there is no (complete) file."""
        try:
            meta = json.loads(self._meta_path(key).read_text(encoding="utf-8"))
            size = self.path(key).stat().st_size
        except FileNotFoundError:
            return None
        return StoredMedia(
            key=key,
            size=size,
            content_type=str(meta["content_type"]),
            sha256=str(meta["sha256"]),
            filename=str(meta["filename"]),
        )

    def link(self, media: StoredMedia, *, expires_in: int) -> str:
        if expires_in <= 0:
            raise ValueError("expires_in must be positive")
        if self._link_base is None or self._secret is None:
            return self.path(media.key).resolve().as_uri()
        expires = int(self._clock.now()) + expires_in
        signature = _sign(self._secret, media.key, expires)
        return f"{self._link_base}/{quote(media.key)}?expires={expires}&signature={signature}"

    def verify_link(self, key: str, *, expires: int, signature: str) -> bool:
        """True when ``signature`` is ours for ``key`` and ``expires`` has not passed."""
        if self._secret is None:
            return False
        try:
            check_key(key)
        except InvalidMediaKey:
            return False
        if self._clock.now() >= expires:
            return False
        return hmac.compare_digest(_sign(self._secret, key, expires), signature)


def _sign(secret: bytes, key: str, expires: int) -> str:
    return hmac.new(secret, f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()
