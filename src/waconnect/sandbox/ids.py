"""Deterministic ids: the same seed and the same sequence of actions give the same ids."""

from __future__ import annotations

import base64
import random
import threading
import uuid


class IdSource:
    """Mints every id the emulated cloud hands out from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - ids, not secrets

    def _bits(self, count: int) -> int:
        with self._lock:
            return self._random.getrandbits(count)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._bits(128), version=4))

    def token(self, length: int = 64) -> str:
        """An opaque bearer token, URL-safe like Connect's."""
        raw = self._bits(length * 6).to_bytes((length * 6 + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")[:length]

    def wamid(self) -> str:
        raw = self._bits(160).to_bytes(20, "big")
        return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18" + raw).decode("ascii")

    def media_id(self) -> str:
        return str(10**15 + self._bits(50) % (9 * 10**15))

    def hex(self, length: int) -> str:
        return f"{self._bits(length * 4):0{length}x}"
