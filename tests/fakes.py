"""In-memory implementations of the ports that keep state for tests to assert on."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from waconnect.domain.media import StoredMedia
from waconnect.domain.session import ChatSession, SessionKey


@dataclass
class FakeClock:
    """A clock that moves only when told to."""

    current: float = 1_764_000_000.0

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@dataclass
class InMemorySessionStore:
    sessions: dict[SessionKey, ChatSession] = field(default_factory=dict)

    def get(self, key: SessionKey) -> ChatSession | None:
        return self.sessions.get(key)

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        for session in self.sessions.values():
            if session.contact_id == contact_id:
                return session
        return None

    def save(self, session: ChatSession) -> None:
        self.sessions[session.key] = session


@dataclass
class InMemoryLedger:
    clock: FakeClock = field(default_factory=FakeClock)
    ttl_seconds: float = 7 * 24 * 3600
    claims: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, key: str) -> bool:
        with self._lock:
            now = self.clock.now()
            claimed_at = self.claims.get(key)
            if claimed_at is not None and now - claimed_at < self.ttl_seconds:
                return False
            self.claims[key] = now
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self.claims.pop(key, None)


@dataclass
class InMemoryMediaStore:
    objects: dict[str, tuple[bytes, StoredMedia]] = field(default_factory=dict)
    chunk_size: int = 64 * 1024

    def put(
        self, key: str, chunks: Iterable[bytes], *, content_type: str, filename: str = ""
    ) -> StoredMedia:
        data = b"".join(chunks)
        stored = StoredMedia(
            key=key,
            size=len(data),
            content_type=content_type,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=filename,
        )
        self.objects[key] = (data, stored)
        return stored

    @contextmanager
    def open(self, media: StoredMedia) -> Iterator[Iterator[bytes]]:
        data, _ = self.objects[media.key]
        yield (data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size))

    def find(self, prefix: str) -> StoredMedia | None:
        for key in sorted(self.objects):
            if key.startswith(prefix):
                return self.objects[key][1]
        return None

    def link(self, media: StoredMedia, *, expires_in: int) -> str:
        return f"https://media.example.invalid/{media.key}?expires_in={expires_in}"

    def data(self, key: str) -> bytes:
        return self.objects[key][0]
