"""The ``converted`` metric: files the bridge converted for their destination, per record.

The bridge's converter is wrapped (``build_bridge(wrap_converter=...)``) so that each conversion
that produced a file is counted for the thread that asked for it; the record consumer takes the
count once the record settles and reports it under the record's kind (image, audio, ...).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from waconnect.domain.media import StoredMedia
    from waconnect.ports import Conversion, Converter


class CountingConverter:
    """A ``Converter`` that counts the conversions it made, per thread, until ``take``n."""

    def __init__(self, inner: Converter) -> None:
        self._inner = inner
        self._local = threading.local()

    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        conversion = self._inner.convert(media, target=target, key=key, max_bytes=max_bytes)
        self._local.count = self.pending + 1
        return conversion

    @property
    def pending(self) -> int:
        return int(getattr(self._local, "count", 0))

    def take(self) -> int:
        """The conversions made by this thread since the last ``take``."""
        count, self._local.count = self.pending, 0
        return count
