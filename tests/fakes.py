"""In-memory implementations of the ports that keep state for tests to assert on."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from waconnect.domain.media import StoredMedia
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.ports import (
    KEPT_HOLD_SECONDS,
    LEDGER_TTL_SECONDS,
    MESSAGE_LOG_TTL_SECONDS,
    TRANSCRIPT_CHECK_SECONDS,
    KeptDocument,
    LeaseState,
    LoggedMessage,
    PendingTranscript,
)


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
    aliases: dict[SessionKey, SessionKey] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, key: SessionKey) -> ChatSession | None:
        return self.sessions.get(self.aliases.get(key, key))

    def link(self, alias: SessionKey, key: SessionKey) -> None:
        with self._lock:
            self.aliases[alias] = key

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        for session in self.sessions.values():
            if session.contact_id == contact_id:
                return session
        return None

    def save(self, session: ChatSession) -> bool:
        with self._lock:
            stored = self.sessions.get(session.key)
            if stored is not None and stored.generation > session.generation:
                return False
            self.sessions[session.key] = session
            return True


@dataclass
class InMemoryLedger:
    """Claims as key -> (claimed at, lease until); a lease of 0 means done."""

    clock: FakeClock = field(default_factory=FakeClock)
    ttl_seconds: float = 7 * 24 * 3600
    claims: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, key: str) -> bool:
        with self._lock:
            if not self._free(key):
                return False
            self.claims[key] = (self.clock.now(), 0.0)
            return True

    def lease(self, key: str, *, seconds: float) -> LeaseState:
        with self._lock:
            now = self.clock.now()
            if not self._free(key):
                return "held" if self.claims[key][1] > now else "done"
            self.claims[key] = (now, now + seconds)
            return "taken"

    def finish(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self.claims[key] = (self.clock.now(), 0.0)

    def release(self, key: str) -> None:
        with self._lock:
            self.claims.pop(key, None)

    def finished(self, keys: Sequence[str], *, consistent: bool = False) -> set[str]:
        with self._lock:
            return {key for key in keys if key in self.claims and self._done(key)}

    def _done(self, key: str) -> bool:
        claimed_at, lease_until = self.claims[key]
        return lease_until == 0.0 and self.clock.now() - claimed_at < self.ttl_seconds

    def _free(self, key: str) -> bool:
        now = self.clock.now()
        claimed_at, lease_until = self.claims.get(key, (None, 0.0))
        if claimed_at is None or now - claimed_at >= self.ttl_seconds:
            return True
        return 0.0 < lease_until <= now


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


@dataclass
class InMemoryMessageLog:
    clock: FakeClock = field(default_factory=FakeClock)
    ttl_seconds: float = MESSAGE_LOG_TTL_SECONDS
    entries: dict[str, LoggedMessage] = field(default_factory=dict)
    # Session key to the customer's wamids, oldest remembered first.
    _order: dict[SessionKey, list[str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remember(self, entry: LoggedMessage) -> None:
        with self._lock:
            self.entries[entry.wamid] = entry
            if entry.author == "customer":
                order = self._order.setdefault(entry.key, [])
                if entry.wamid in order:
                    order.remove(entry.wamid)
                order.append(entry.wamid)

    def recall(self, wamid: str) -> LoggedMessage | None:
        with self._lock:
            entry = self.entries.get(wamid)
        if entry is None or self._expired(entry):
            return None
        return entry

    def latest_from_customer(self, key: SessionKey) -> str:
        with self._lock:
            candidates = [self.entries[w] for w in self._order.get(key, [])]
        live = [e for e in candidates if not self._expired(e)]
        if not live:
            return ""
        # max keeps the first of equals: reversed, the last remembered wins a tie.
        return max(reversed(live), key=lambda e: e.at).wamid

    def _expired(self, entry: LoggedMessage) -> bool:
        return self.clock.now() - entry.at >= self.ttl_seconds


@dataclass
class InMemoryRetryStore:
    documents: dict[str, KeptDocument] = field(default_factory=dict)
    hold_seconds: float = KEPT_HOLD_SECONDS
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    customers: dict[str, set[str]] = field(default_factory=dict)

    def keep(
        self, key: str, document: str, *, due_at: float, customers: Sequence[str] = ()
    ) -> None:
        with self._lock:
            self.documents[key] = KeptDocument(key=key, document=document, due_at=due_at)
            self.customers.setdefault(key, set()).update(customers)

    def waiting(self, customer: str) -> list[KeptDocument]:
        with self._lock:
            return [
                kept
                for key, kept in self.documents.items()
                if customer in self.customers.get(key, ())
            ]

    def due(self, now: float) -> list[KeptDocument]:
        with self._lock:
            # A dict keeps first-insertion order, which is the order documents were first kept.
            ready = [d for d in self.documents.values() if d.due_at <= now]
            for taken in ready:
                self.documents[taken.key] = replace(taken, due_at=now + self.hold_seconds)
        return ready

    def drop(self, key: str) -> None:
        with self._lock:
            self.documents.pop(key, None)
            self.customers.pop(key, None)


@dataclass
class InMemoryTranscriptJobs:
    """Voice notes waiting for their transcript, by job name, kept for the ledger's retention."""

    clock: FakeClock = field(default_factory=FakeClock)
    records: dict[str, PendingTranscript] = field(default_factory=dict)
    # job -> when it is checked next (None: its checks come from elsewhere)
    checks: dict[str, float] = field(default_factory=dict)
    check_after_seconds: float | None = TRANSCRIPT_CHECK_SECONDS
    hold_seconds: float = KEPT_HOLD_SECONDS

    def remember(self, pending: PendingTranscript) -> None:
        self.records[pending.job] = pending
        if self.check_after_seconds is not None:
            self.checks[pending.job] = pending.started_at + self.check_after_seconds

    def due(self, now: float) -> list[PendingTranscript]:
        ready = sorted((at, job) for job, at in self.checks.items() if at <= now)
        for _, job in ready:
            self.checks[job] = now + self.hold_seconds
        return [self.records[job] for _, job in ready]

    def check_later(self, job: str, at: float) -> None:
        if job in self.checks:
            self.checks[job] = at

    def stop_checking(self, job: str) -> None:
        self.checks.pop(job, None)

    def find(self, job: str) -> PendingTranscript | None:
        found = self.records.get(job)
        if found is None or found.started_at < self.clock.now() - LEDGER_TTL_SECONDS:
            return None
        return found
