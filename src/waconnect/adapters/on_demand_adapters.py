"""Adapters made on their first use, so that work that never needs them never loads them.

A text never touches a file. The Lambda functions' text path must not pay at cold start for
httpx (the signed-URL transfers of attachments) nor for the media modules (the converter; PyAV
itself is imported by the converter only when it converts). The composition root hands these
stand-ins to the services; each builds the real adapter, once, when a file first needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

from waconnect.on_demand import OnDemand

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from waconnect.adapters.transfers import SignedUrlTransfers
    from waconnect.domain.media import StoredMedia
    from waconnect.ports import Conversion, Converter


class TransfersOnDemand:
    """``SignedUrlTransfers`` (and its HTTP client) made on the first attachment."""

    def __init__(self, make: Callable[[], SignedUrlTransfers]) -> None:
        self.transfers = OnDemand(make)

    def put(self, url: str, headers: Mapping[str, str], chunks: Iterable[bytes], size: int) -> None:
        self.transfers.get().put(url, headers, chunks, size)

    def get(
        self, url: str, *, expected_size: int | None = None
    ) -> AbstractContextManager[Iterator[bytes]]:
        return self.transfers.get().get(url, expected_size=expected_size)


class ConverterOnDemand:
    """The media converter, made on the first conversion."""

    def __init__(self, make: Callable[[], Converter]) -> None:
        self.converter = OnDemand(make)

    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        return self.converter.get().convert(media, target=target, key=key, max_bytes=max_bytes)
