"""The ports: what the services need from the world, in domain words.

Each is a small Protocol. Adapters implement them over boto3, SQLite, the filesystem or httpx;
``tests/fakes.py`` implements them in memory, keeping state tests can assert on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Literal, Protocol

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing
from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.text import shorten
from waconnect.domain.whatsapp import BusinessNumber, Customer, Media

LEDGER_TTL_SECONDS = 7 * 24 * 3600
# A kept document handed out by ``RetryStore.due`` is not due again for this long, unless the
# taker keeps or drops it first: one worker tries it, and a taker that died gives it back.
KEPT_HOLD_SECONDS = 300
# Longer than the slowest message (a large file converted), shorter than Connect's 5 minutes
# between starting a chat and connecting to it.
DEFAULT_LEASE_SECONDS = 90.0
# Replies and reactions usually come within days; a week matches WhatsApp's own media lifetime.
MESSAGE_LOG_TTL_SECONDS = 7 * 24 * 3600
SNIPPET_CHARS = 120
# A transcription job whose end was not heard (its event lost) is looked at this long after it
# started, then again after as long as it has run, at most ``TRANSCRIPT_CHECK_MAX_SECONDS`` apart.
TRANSCRIPT_CHECK_SECONDS = 300
TRANSCRIPT_CHECK_MAX_SECONDS = 3600


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SessionStore(Protocol):
    def get(self, key: SessionKey) -> ChatSession | None:
        """The session of ``key``, or of the key ``key`` is linked to (see ``link``)."""
        ...

    def link(self, alias: SessionKey, key: SessionKey) -> None:
        """From now on ``alias`` finds the session of ``key`` (one customer known by two ids)."""
        ...

    def find_by_contact(self, contact_id: str) -> ChatSession | None:
        """The session whose current chat has this contact id (initial or current)."""
        ...

    def save(self, session: ChatSession) -> bool:
        """Insert or replace the session of ``session.key``, unless a newer one is stored.

        A session whose ``generation`` is lower than the stored one's changes nothing and gives
        False (an old chat must never overwrite the customer's new one); the same generation
        overwrites (token refreshes, closing). True when stored.
        """
        ...


LeaseState = Literal["taken", "held", "done"]


class Ledger(Protocol):
    """Claims of work, by key: *in progress until T* (a lease), then *done* for the retention.

    A lease lets a worker that died mid-work (SIGKILL, a Lambda timeout) be replaced: once its
    lease has run out, the next worker takes the work over.
    """

    def claim(self, key: str) -> bool:
        """Record ``key`` as done at once: True the first time within the retention period."""
        ...

    def lease(self, key: str, *, seconds: float) -> LeaseState:
        """Take ``key`` for ``seconds``: ``taken`` when it was free (never claimed, released, its
        lease run out, or done longer ago than the retention), ``held`` while another holder's
        lease is live, ``done`` once finished within the retention period."""
        ...

    def finish(self, *keys: str) -> None:
        """Mark each of ``keys`` done (kept for the retention period), whoever held it; several
        keys in one request where the store allows (not atomically: each is marked or not)."""
        ...

    def release(self, key: str) -> None:
        """Forget a claim or a lease, so that a retry can do the work again."""
        ...

    def finished(self, keys: Sequence[str], *, consistent: bool = False) -> set[str]:
        """Those of ``keys`` done within the retention period: a read that takes nothing.

        By default a cheap look (before queueing work that may be a duplicate) that may miss a
        key finished a moment ago; ``consistent`` sees every finish made before it. It never
        names a key that is not done.
        """
        ...


class MediaStore(Protocol):
    def put(
        self, key: str, chunks: Iterable[bytes], *, content_type: str, filename: str = ""
    ) -> StoredMedia:
        """Store a stream of bytes under ``key`` without holding it all in memory."""
        ...

    def open(self, media: StoredMedia) -> AbstractContextManager[Iterator[bytes]]:
        """Stream a stored file back, chunk by chunk."""
        ...

    def find(self, prefix: str) -> StoredMedia | None:
        """The first object whose key starts with ``prefix`` (EUM may add an extension)."""
        ...

    def link(self, media: StoredMedia, *, expires_in: int) -> str:
        """A time-limited URL from which a person can download the file."""
        ...


class WhatsApp(Protocol):
    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        """Send a message; returns its wamid."""
        ...

    def fetch_media(self, business: BusinessNumber, media: Media, *, key: str) -> StoredMedia:
        """Copy a customer's file into the media store under (a key starting with) ``key``."""
        ...

    def upload_media(self, business: BusinessNumber, media: StoredMedia) -> str:
        """Make a stored file sendable from ``business``; returns the WhatsApp media id."""
        ...

    def can_send_from(self, business: BusinessNumber) -> bool:
        """Whether messages can be sent (and files fetched) through ``business`` at all."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NewChat:
    contact_id: str
    participant_id: str
    participant_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    token: str
    expiry: float  # epoch seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloadedAttachment:
    """An agent's attachment, fetched into the media store."""

    stored: StoredMedia
    name: str


class ConnectChat(Protocol):
    """Amazon Connect (StartChatContact, StartContactStreaming) plus the Participant Service."""

    def start_chat(
        self, *, business: BusinessNumber, customer: Customer, client_token: str
    ) -> NewChat:
        """Start a chat contact and stream it to the bridge's topic."""
        ...

    def connect(self, participant_token: str) -> Connection:
        """CreateParticipantConnection (CONNECTION_CREDENTIALS, ConnectParticipant)."""
        ...

    def send_message(self, connection_token: str, *, text: str, client_token: str) -> str: ...

    def send_event(
        self, connection_token: str, *, content_type: str, content: str, client_token: str
    ) -> str: ...

    def send_attachment(
        self, connection_token: str, media: StoredMedia, *, name: str, client_token: str
    ) -> str:
        """StartAttachmentUpload, stream the stored file to the signed URL, Complete...Upload.

        Returns the attachment id. The adapter reads the file from its media store.
        """
        ...

    def get_attachment(
        self, connection_token: str, attachment_id: str, *, name: str, content_type: str, key: str
    ) -> DownloadedAttachment:
        """GetAttachment and stream the file into the media store under ``key``."""
        ...

    def disconnect(self, connection_token: str, *, client_token: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversion:
    """What a converter did: the new file (or its parts), how long it lasts, what it says.

    ``parts`` holds every file, in order, when the result had to be split (a long voice note in
    WAV files under Connect's limit); ``stored`` is then the first. ``caption`` is what the file
    says in words (a sticker's emoji); ``note`` what did not convert, for the agent.
    """

    stored: StoredMedia
    duration_seconds: float = 0.0
    parts: tuple[StoredMedia, ...] = ()
    caption: str = ""
    note: str = ""

    @property
    def files(self) -> tuple[StoredMedia, ...]:
        return self.parts or (self.stored,)


class Converter(Protocol):
    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        """Convert a stored file to ``target`` ("wav16k", "ogg-opus", ...), stored under ``key``.

        ``max_bytes`` bounds each file written (0: the converter's own limit); audio longer than
        fits in one file comes back in ``Conversion.parts``.
        """
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcript:
    """What a transcription job came to: the words, or why there are none.

    ``note`` says what of the recording the words cover when not all of it ("the first 2:00
    min of 12:30 min"); ``failure`` why there are no words (an engine error, a language the
    engine does not know) — logged, never shown to anyone.
    """

    text: str = ""
    note: str = ""
    failure: str = ""
    # Each word of ``text`` with when it is said, when the engine knows (the offline one does).
    words: tuple[TimedWord, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedWord:
    """A recognised word and when it is said: seconds from the start of the recording."""

    word: str
    start: float
    end: float


class Transcriber(Protocol):
    """Speech to text as a job: started once, its result read when ready.

    ``recording`` holds the voice note in every form the bridge has: the original first, then
    its 16 kHz mono WAV parts; an engine takes the form it reads best.
    """

    def start(self, job: str, recording: Sequence[StoredMedia], *, language: str) -> None:
        """Start job ``job`` (a stable name: starting it again is harmless)."""
        ...

    def result(self, job: str) -> Transcript | None:
        """The transcript of ``job``, or None while it is still running."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingTranscript:
    """A voice note whose transcript an engine will finish later, remembered by its job name.

    Written before the job starts, so that whatever tells of the job's end (an EventBridge
    event, on any worker) finds where the words go: the chat the recording reached
    (``contact_id`` of generation ``generation``) and the customer the echo quotes.
    """

    job: str
    wamid: str
    business: BusinessNumber
    customer: Customer
    contact_id: str
    generation: int
    started_at: float


class TranscriptJobs(Protocol):
    """Voice notes waiting for their transcript, kept ``LEDGER_TTL_SECONDS``."""

    def remember(self, pending: PendingTranscript) -> None:
        """Insert or replace the record of ``pending.job``."""
        ...

    def find(self, job: str) -> PendingTranscript | None:
        """The record of ``job``; None when unknown or older than the retention."""
        ...


class TranscriptChecks(Protocol):
    """The jobs whose end has not been heard yet, each with the time to look at it.

    An event can be lost (a rule, a dead-letter queue, an event that came before its job was
    remembered); then the job is asked for its state when its check is due. ``remember``
    schedules the first check; a job whose end was handled is no longer checked.
    """

    def due(self, now: float) -> list[PendingTranscript]:
        """Jobs whose check is due at ``now`` (a batch), however old, each held for this caller
        ``KEPT_HOLD_SECONDS`` (not due again meanwhile, unless ``check_later`` moves it)."""
        ...

    def check_later(self, job: str, at: float) -> None:
        """Look at ``job`` again at ``at``."""
        ...

    def stop_checking(self, job: str) -> None:
        """``job``'s end was handled (or it is forgotten): it is no longer checked."""
        ...


class TranscriptFollowUps(Protocol):
    """Where a started job's check is posted to come back later (the Lambda shape's queue)."""

    def follow_up(self, job: str) -> None:
        """Have ``job`` looked at after a while, in case its end is never announced."""
        ...


Author = Literal["customer", "agent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedMessage:
    """A message of a chat, remembered by its wamid so a later reply or reaction can quote it.

    ``snippet`` is a one-line excerpt of at most ``SNIPPET_CHARS`` characters ("" when snippets
    are not kept); ``at`` is when the bridge handled it, in epoch seconds.
    """

    wamid: str
    key: SessionKey
    author: Author
    snippet: str
    at: float

    @classmethod
    def of(
        cls, *, wamid: str, key: SessionKey, author: Author, text: str, at: float
    ) -> LoggedMessage:
        """An entry whose snippet is ``text`` shortened on a word boundary."""
        snippet = shorten(text, SNIPPET_CHARS) if text.strip() else ""
        return cls(wamid=wamid, key=key, author=author, snippet=snippet, at=at)


class MessageLog(Protocol):
    """Recent messages of every chat, kept for ``MESSAGE_LOG_TTL_SECONDS``."""

    def remember(self, entry: LoggedMessage) -> None:
        """Insert or replace the entry of ``entry.wamid``."""
        ...

    def recall(self, wamid: str) -> LoggedMessage | None:
        """The entry of ``wamid``; None when unknown or older than the retention."""
        ...

    def latest_from_customer(self, key: SessionKey) -> str:
        """The wamid the customer of ``key`` sent last (remembered last), or "" when none."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class KeptDocument:
    """An input document kept to be handed in again once ``due_at`` (epoch seconds) comes."""

    key: str
    document: str
    due_at: float


class RetryStore(Protocol):
    """Inputs that could not be settled yet, kept durably until they are tried again.

    Used where no queue keeps them (the sandbox, the server); on Lambda, SQS does this job.
    """

    def keep(
        self, key: str, document: str, *, due_at: float, customers: Sequence[str] = ()
    ) -> None:
        """Insert the document under ``key``, or move its due time; ``customers`` names whose
        messages wait in it (added to those named before)."""
        ...

    def waiting(self, customer: str) -> list[KeptDocument]:
        """The documents kept for ``customer``, in the order they were first kept, due or not
        (none is taken): what a new message of theirs must wait behind."""
        ...

    def due(self, now: float) -> list[KeptDocument]:
        """Documents due at ``now``, in the order they were first kept, each taken for the caller.

        First-kept order is arrival order: a customer's messages waiting for a chat are handed
        in again in the order they came, however their due times were moved meanwhile.

        A taken document is due again ``KEPT_HOLD_SECONDS`` after ``now`` unless the caller keeps
        or drops it meanwhile; callers sharing the store never both take the same one.
        """
        ...

    def drop(self, key: str) -> None:
        """Forget a document (settled)."""
        ...
