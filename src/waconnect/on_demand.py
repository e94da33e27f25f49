"""A value made on its first use: what a process may never need is not built, nor imported.

The composition root and the services hold some parts this way (the media code, the HTTP client
of attachments), so that a Lambda function handling texts only never pays for them at cold
start. The maker runs once, whichever thread asks first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class OnDemand(Generic[T]):
    """``make()``'s result, made on the first ``get`` (once, whichever thread asks first)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._made: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made

    @property
    def made(self) -> bool:
        return self._made is not None
