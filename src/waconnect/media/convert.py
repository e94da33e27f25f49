"""The bridge's ``ports.Converter``: a stored file converted, and the results stored.

The file is streamed from the media store into a temporary file (some containers need a seekable
input), converted there by ``conversions.convert_file`` into more temporary files, and streamed
back into the store: memory stays bounded whatever the length of the recording.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

from waconnect.domain.media import StoredMedia
from waconnect.errors import PermanentError
from waconnect.media.conversions import (
    ConversionLimits,
    FileConversion,
    check_target,
    convert_file,
    part_name,
)
from waconnect.media.naming import file_name_for
from waconnect.media.policy import WAV16K
from waconnect.ports import Conversion, MediaStore

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024

__all__ = ["ConversionLimits", "PyAvConverter", "part_name"]


class PyAvConverter:
    """``ports.Converter`` over PyAV and Pillow.

    Targets: ``"wav16k"`` (in parts under the size limit), ``"ogg-opus"``, ``"png"`` (a
    sticker's first frame), ``"jpeg"`` and ``"mp4"`` (H.264 + AAC).
    """

    def __init__(
        self,
        store: MediaStore,
        *,
        workdir: Path | None = None,
        limits: ConversionLimits | None = None,
    ) -> None:
        self._store = store
        self._workdir = workdir
        self._limits = limits or ConversionLimits()

    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        """Convert ``media`` to ``target`` and store the result under ``key``.

        ``max_bytes`` bounds each file written (0: the converter's own limit). Raises
        PermanentError for an unknown target and for a file that holds nothing decodable
        (empty, corrupt, or not of the kind the target needs): retrying would fail the same way.
        A file that decodes only in part is converted as far as it goes; ``Conversion.note``
        says what is missing.
        """
        check_target(target)
        if media.size == 0:
            raise PermanentError("cannot convert an empty file", operation="convert")
        limit = max_bytes or self._limits.max_part_bytes
        with tempfile.TemporaryDirectory(prefix="waconnect-", dir=self._workdir) as tmp:
            workdir = Path(tmp)
            source = workdir / "source"
            self._download(media, source)
            converted = convert_file(
                source, workdir, target=target, max_bytes=limit, limits=self._limits,
                what=media.key,
            )  # fmt: skip
            conversion = self._stored(converted, media, key=key)
        logger.info(
            "converted %s (%s, %d bytes) to %s: %.2f s, %d file(s), %d bytes",
            media.key,
            media.content_type,
            media.size,
            target,
            conversion.duration_seconds,
            len(conversion.files),
            sum(f.size for f in conversion.files),
        )
        return conversion

    def _stored(self, converted: FileConversion, media: StoredMedia, *, key: str) -> Conversion:
        """Store each file written under ``key`` (numbered parts when more than one)."""
        stem = "audio" if converted.content_type == WAV16K.content_type else "file"
        name = file_name_for(converted.content_type, filename=media.filename, stem=stem)
        count = len(converted.paths)
        stored = tuple(
            self._store.put(
                key if count == 1 else f"{key}-{index}of{count}",
                _read_chunks(path),
                content_type=converted.content_type,
                filename=name if count == 1 else part_name(name, index, count),
            )
            for index, path in enumerate(converted.paths, start=1)
        )
        return Conversion(
            stored=stored[0],
            parts=stored if count > 1 else (),
            duration_seconds=converted.duration_seconds,
            note=converted.note,
            caption=converted.caption,
        )

    def _download(self, media: StoredMedia, path: Path) -> None:
        with self._store.open(media) as chunks, path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK_BYTES):
            yield chunk
