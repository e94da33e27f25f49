"""Files the emulated cloud holds (attachments, WhatsApp media), kept on disk, never in memory."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Blob:
    """A stored file: where it is, its exact size and digest, and its play time if media."""

    path: Path
    size: int
    sha256: str
    duration: float | None = None

    def chunks(self) -> Iterator[bytes]:
        with self.path.open("rb") as file:
            while chunk := file.read(_CHUNK):
                yield chunk

    def read(self) -> bytes:
        return self.path.read_bytes()


class BlobStore:
    """Writes blobs under one folder with names the store chooses (no caller-made paths)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._count = 0

    def _next_path(self) -> Path:
        with self._lock:
            self._count += 1
            return self._root / f"blob-{self._count:06d}"

    def writer(self, *, content_type: str = "") -> BlobWriter:
        return BlobWriter(self._next_path(), content_type=content_type)

    def put(self, chunks: Iterable[bytes], *, content_type: str = "") -> Blob:
        writer = self.writer(content_type=content_type)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.finish()

    def put_bytes(self, data: bytes, *, content_type: str = "") -> Blob:
        return self.put([data], content_type=content_type)

    def put_file(self, source: Path, *, content_type: str = "") -> Blob:
        """A copy of the file at ``source``, read a chunk at a time."""
        with source.open("rb") as file:
            return self.put(iter(lambda: file.read(_CHUNK), b""), content_type=content_type)

    def put_any(self, data: bytes | Path, *, content_type: str = "") -> Blob:
        """Bytes in memory, or a file copied from its path without reading it whole."""
        if isinstance(data, Path):
            return self.put_file(data, content_type=content_type)
        return self.put_bytes(data, content_type=content_type)


def is_timed_media(content_type: str) -> bool:
    return content_type.split("/", 1)[0].strip().lower() in {"audio", "video"}


def audio_codec(path: Path) -> str:
    """The codec of the file's first audio stream ("opus", "aac"...), or "" when there is none."""
    import av  # noqa: PLC0415  (only media pays for PyAV's import)

    try:
        with av.open(str(path)) as container:
            return str(container.streams.audio[0].codec_context.name)
    except (av.FFmpegError, OSError, ValueError, IndexError):
        return ""


def media_duration(path: Path) -> float | None:
    """Seconds of audio or video (rounded to 0.01), or None when PyAV cannot tell."""
    import av  # noqa: PLC0415  (only media pays for PyAV's import)

    try:
        with av.open(str(path)) as container:
            if container.duration is not None:
                return round(container.duration / av.time_base, 2)
            for stream in container.streams:
                if stream.duration is not None and stream.time_base is not None:
                    return round(float(stream.duration * stream.time_base), 2)
    except (av.FFmpegError, OSError, ValueError):
        logger.debug("no duration for %s", path.name)
    return None


class BlobWriter:
    """Writes one blob chunk by chunk, hashing as it goes, so no file is ever held in memory."""

    def __init__(self, path: Path, *, content_type: str) -> None:
        self._path = path
        self._content_type = content_type
        self._file = path.open("wb")
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._digest.update(chunk)
        self.size += len(chunk)
        self._file.write(chunk)

    def finish(self) -> Blob:
        self._file.close()
        duration = media_duration(self._path) if is_timed_media(self._content_type) else None
        return Blob(
            path=self._path, size=self.size, sha256=self._digest.hexdigest(), duration=duration
        )

    def abort(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)
