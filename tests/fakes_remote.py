"""In-memory WhatsApp and Connect that keep state and refuse what the real services refuse.

They implement ``ports.WhatsApp`` and ``ports.ConnectChat``. Tests assert on their state
(``RecordingWhatsApp.sent``, ``RecordingConnectChat.chats[...].transcript``); the port contract
suites run over them as over the real adapters, so they raise what the adapters raise:
``SessionEnded`` for an expired or unknown connection token or an ended chat, ``PermanentError``
for requests the service would validate away, and whatever error a test injects.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes import FakeClock
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing, OutgoingText
from waconnect.domain.whatsapp import BusinessNumber, Customer, Media
from waconnect.errors import PermanentError, SessionEnded
from waconnect.media.policy import CONNECT_DEFAULT_EXTENSIONS, CONNECT_DEFAULT_MAX_BYTES
from waconnect.ports import (
    Clock,
    Connection,
    Conversion,
    DownloadedAttachment,
    MediaStore,
    NewChat,
)

CONNECT_TEXT_LIMIT = 1024
WHATSAPP_TEXT_LIMIT = 4096
CONNECTION_LIFETIME_SECONDS = 24 * 3600
CHAT_DURATION_SECONDS = 25 * 3600
CONNECT_MAX_ATTACHMENT_BYTES = CONNECT_DEFAULT_MAX_BYTES
CONNECT_ALLOWED_EXTENSIONS = CONNECT_DEFAULT_EXTENSIONS


@dataclass
class _Faults:
    """Errors a test asked for: each raised by the next matching call, then forgotten."""

    pending: list[tuple[str | None, Exception]] = field(default_factory=list)

    def add(self, error: Exception, operation: str | None, times: int) -> None:
        self.pending.extend((operation, error) for _ in range(times))

    def check(self, operation: str) -> None:
        for index, (wanted, error) in enumerate(self.pending):
            if wanted is None or wanted == operation:
                del self.pending[index]
                raise error


def _read(store: MediaStore, media: StoredMedia) -> bytes:
    with store.open(media) as chunks:
        return b"".join(chunks)


# --------------------------------------------------------------------------------------------
# WhatsApp


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadedMedia:
    business: BusinessNumber
    data: bytes
    content_type: str
    filename: str


@dataclass
class RecordingWhatsApp:
    """WhatsApp as End User Messaging offers it: send, fetch a customer's file, upload a file.

    Register customers' files with ``add_customer_media`` before a message names them.
    """

    store: MediaStore
    sent: list[tuple[BusinessNumber, Outgoing]] = field(default_factory=list)
    customer_media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    uploaded: dict[str, UploadedMedia] = field(default_factory=dict)
    fetched: list[str] = field(default_factory=list)
    # Meta phone-number ids this WhatsApp has no way to send from (a gap in the settings).
    unreachable: set[str] = field(default_factory=set)
    _faults: _Faults = field(default_factory=_Faults, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def fail_next(self, error: Exception, *, operation: str | None = None, times: int = 1) -> None:
        """Raise ``error`` from the next ``times`` calls of ``operation`` (any when None).

        Operations: "send", "fetch_media", "upload_media".
        """
        with self._lock:
            self._faults.add(error, operation, times)

    def add_customer_media(self, media_id: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self.customer_media[media_id] = (data, content_type)

    def send(self, business: BusinessNumber, message: Outgoing) -> str:
        with self._lock:
            self._faults.check("send")
            if isinstance(message, OutgoingText) and not (
                0 < len(message.text) <= WHATSAPP_TEXT_LIMIT
            ):
                raise PermanentError(
                    f"text body must be 1-{WHATSAPP_TEXT_LIMIT} characters",
                    operation="SendWhatsAppMessage",
                    code="ValidationException",
                )
            self.sent.append((business, message))
            return f"wamid.out.{next(self._ids)}"

    def fetch_media(self, business: BusinessNumber, media: Media, *, key: str) -> StoredMedia:
        with self._lock:
            self._faults.check("fetch_media")
            if media.media_id not in self.customer_media:
                raise PermanentError(
                    f"no media {media.media_id}",
                    operation="GetWhatsAppMessageMedia",
                    code="ResourceNotFoundException",
                )
            data, content_type = self.customer_media[media.media_id]
            self.fetched.append(media.media_id)
        # End User Messaging writes the object at <key><mediaId>.
        return self.store.put(
            f"{key}{media.media_id}", [data], content_type=content_type, filename=media.filename
        )

    def upload_media(self, business: BusinessNumber, media: StoredMedia) -> str:
        data = _read(self.store, media)
        with self._lock:
            self._faults.check("upload_media")
            media_id = f"media.out.{next(self._ids)}"
            self.uploaded[media_id] = UploadedMedia(
                business=business,
                data=data,
                content_type=media.content_type,
                filename=media.filename,
            )
            return media_id

    def can_send_from(self, business: BusinessNumber) -> bool:
        return business.meta_phone_number_id not in self.unreachable

    def texts(self) -> list[str]:
        """Texts sent so far, in order (a convenience for assertions)."""
        return [m.text for _, m in self.sent if isinstance(m, OutgoingText)]


# --------------------------------------------------------------------------------------------
# Connect


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatEntry:
    """One item of a chat's transcript, as the agent sees it."""

    kind: str  # "message" | "attachment" | "event"
    client_token: str
    item_id: str
    text: str = ""
    content_type: str = ""
    name: str = ""
    data: bytes = b""


@dataclass
class FakeChat:
    contact_id: str
    business: BusinessNumber
    customer: Customer
    participant_id: str
    participant_token: str
    client_token: str
    started_at: float
    transcript: list[ChatEntry] = field(default_factory=list)
    connection_tokens: list[str] = field(default_factory=list)
    # Agent-side attachments the bridge may fetch: id -> (name, content type, bytes).
    agent_files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    ended: bool = False

    def messages(self) -> list[str]:
        return [e.text for e in self.transcript if e.kind == "message"]

    def attachments(self) -> list[ChatEntry]:
        return [e for e in self.transcript if e.kind == "attachment"]


@dataclass
class _ConnectionState:
    contact_id: str
    expiry: float


@dataclass
class RecordingConnectChat:
    """Amazon Connect chat plus the Participant Service, in memory.

    Connection tokens live ``connection_lifetime`` seconds on ``clock``; a chat ends after
    ``chat_duration`` seconds, on ``end_chat``, or when the customer disconnects. Requests carrying
    a ClientToken already seen in the same chat return the first result and change nothing.
    """

    store: MediaStore
    clock: Clock = field(default_factory=FakeClock)
    connection_lifetime: float = CONNECTION_LIFETIME_SECONDS
    chat_duration: float = CHAT_DURATION_SECONDS
    allowed_extensions: frozenset[str] = CONNECT_ALLOWED_EXTENSIONS
    max_attachment_bytes: int = CONNECT_MAX_ATTACHMENT_BYTES
    chats: dict[str, FakeChat] = field(default_factory=dict)
    # Every successful operation, in order: (operation, contact id).
    calls: list[tuple[str, str]] = field(default_factory=list)
    _connections: dict[str, _ConnectionState] = field(default_factory=dict, repr=False)
    _starts: dict[str, str] = field(default_factory=dict, repr=False)
    _by_participant_token: dict[str, str] = field(default_factory=dict, repr=False)
    _results: dict[tuple[str, str, str], str] = field(default_factory=dict, repr=False)
    _faults: _Faults = field(default_factory=_Faults, repr=False)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # ---- controls for tests -----------------------------------------------------------------

    def fail_next(self, error: Exception, *, operation: str | None = None, times: int = 1) -> None:
        """Raise ``error`` from the next ``times`` calls of ``operation`` (any when None).

        Operations are the port's method names: "start_chat", "connect", "send_message", ...
        """
        with self._lock:
            self._faults.add(error, operation, times)

    def expire_connections(self, contact_id: str) -> None:
        """Every connection token of the chat expires now; the chat itself goes on."""
        with self._lock:
            now = self.clock.now()
            for state in self._connections.values():
                if state.contact_id == contact_id:
                    state.expiry = min(state.expiry, now)

    def end_chat(self, contact_id: str) -> None:
        """The agent (or a flow) ends the chat."""
        with self._lock:
            self.chats[contact_id].ended = True

    def agent_attach(self, contact_id: str, *, name: str, content_type: str, data: bytes) -> str:
        """An agent attaches a file; returns the attachment id a streaming event would carry."""
        with self._lock:
            attachment_id = f"attachment-{next(self._ids)}"
            self.chats[contact_id].agent_files[attachment_id] = (name, content_type, data)
            return attachment_id

    def chat_of(self, customer: Customer) -> list[FakeChat]:
        """The customer's chats, oldest first."""
        with self._lock:
            return [c for c in self.chats.values() if c.customer.identity == customer.identity]

    # ---- the port ---------------------------------------------------------------------------

    def start_chat(
        self, *, business: BusinessNumber, customer: Customer, client_token: str
    ) -> NewChat:
        with self._lock:
            self._faults.check("start_chat")
            _check_client_token(client_token, "StartChatContact")
            contact_id = self._starts.get(client_token)
            if contact_id is None:
                n = next(self._ids)
                contact_id = f"contact-{n:04d}"
                chat = FakeChat(
                    contact_id=contact_id,
                    business=business,
                    customer=customer,
                    participant_id=f"participant-{n:04d}",
                    participant_token=f"ptok-{n:04d}",
                    client_token=client_token,
                    started_at=self.clock.now(),
                )
                self.chats[contact_id] = chat
                self._starts[client_token] = contact_id
                self._by_participant_token[chat.participant_token] = contact_id
                self.calls.append(("start_chat", contact_id))
            chat = self.chats[contact_id]
            return NewChat(
                contact_id=chat.contact_id,
                participant_id=chat.participant_id,
                participant_token=chat.participant_token,
            )

    def connect(self, participant_token: str) -> Connection:
        with self._lock:
            self._faults.check("connect")
            contact_id = self._by_participant_token.get(participant_token)
            if contact_id is None or self._is_over(self.chats[contact_id]):
                raise SessionEnded(
                    "participant token refused",
                    operation="CreateParticipantConnection",
                    code="AccessDeniedException",
                )
            token = f"ctok-{next(self._ids):04d}"
            expiry = self.clock.now() + self.connection_lifetime
            self._connections[token] = _ConnectionState(contact_id=contact_id, expiry=expiry)
            self.chats[contact_id].connection_tokens.append(token)
            self.calls.append(("connect", contact_id))
            return Connection(token=token, expiry=expiry)

    def send_message(self, connection_token: str, *, text: str, client_token: str) -> str:
        with self._lock:
            self._faults.check("send_message")
            chat = self._chat_for(connection_token, "SendMessage")
            _check_client_token(client_token, "SendMessage")
            if not 0 < len(text) <= CONNECT_TEXT_LIMIT:
                raise PermanentError(
                    f"Content must be 1-{CONNECT_TEXT_LIMIT} characters",
                    operation="SendMessage",
                    code="ValidationException",
                )
            return self._once(
                chat,
                "send_message",
                client_token,
                lambda item_id: ChatEntry(
                    kind="message",
                    client_token=client_token,
                    item_id=item_id,
                    text=text,
                    content_type="text/plain",
                ),
            )

    def send_event(
        self, connection_token: str, *, content_type: str, content: str, client_token: str
    ) -> str:
        with self._lock:
            self._faults.check("send_event")
            chat = self._chat_for(connection_token, "SendEvent")
            _check_client_token(client_token, "SendEvent")
            return self._once(
                chat,
                "send_event",
                client_token,
                lambda item_id: ChatEntry(
                    kind="event",
                    client_token=client_token,
                    item_id=item_id,
                    text=content,
                    content_type=content_type,
                ),
            )

    def send_attachment(
        self, connection_token: str, media: StoredMedia, *, name: str, client_token: str
    ) -> str:
        data = _read(self.store, media)
        with self._lock:
            self._faults.check("send_attachment")
            chat = self._chat_for(connection_token, "StartAttachmentUpload")
            _check_client_token(client_token, "StartAttachmentUpload")
            extension = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if extension not in self.allowed_extensions:
                raise PermanentError(
                    f"attachment type {extension or '(none)'} is not allowed",
                    operation="StartAttachmentUpload",
                    code="ValidationException",
                )
            if len(data) > self.max_attachment_bytes:
                raise PermanentError(
                    "attachment too large",
                    operation="StartAttachmentUpload",
                    code="ValidationException",
                )
            return self._once(
                chat,
                "send_attachment",
                client_token,
                lambda item_id: ChatEntry(
                    kind="attachment",
                    client_token=client_token,
                    item_id=item_id,
                    name=name,
                    content_type=media.content_type,
                    data=data,
                ),
            )

    def get_attachment(
        self, connection_token: str, attachment_id: str, *, name: str, content_type: str, key: str
    ) -> DownloadedAttachment:
        with self._lock:
            self._faults.check("get_attachment")
            chat = self._chat_for(connection_token, "GetAttachment")
            found = chat.agent_files.get(attachment_id)
            if found is None:
                raise PermanentError(
                    f"no attachment {attachment_id}",
                    operation="GetAttachment",
                    code="ResourceNotFoundException",
                )
            stored_name, stored_type, data = found
            self.calls.append(("get_attachment", chat.contact_id))
        stored = self.store.put(
            f"{key}{stored_name}",
            [data],
            content_type=content_type or stored_type,
            filename=name or stored_name,
        )
        return DownloadedAttachment(stored=stored, name=name or stored_name)

    def disconnect(self, connection_token: str, *, client_token: str) -> None:
        with self._lock:
            self._faults.check("disconnect")
            chat = self._chat_for(connection_token, "DisconnectParticipant")
            # The customer leaving ends a chat with a single customer participant.
            chat.ended = True
            self.calls.append(("disconnect", chat.contact_id))

    # ---- internals --------------------------------------------------------------------------

    def _is_over(self, chat: FakeChat) -> bool:
        return chat.ended or self.clock.now() >= chat.started_at + self.chat_duration

    def _chat_for(self, connection_token: str, operation: str) -> FakeChat:
        state = self._connections.get(connection_token)
        if state is None or self.clock.now() >= state.expiry:
            raise SessionEnded(
                "connection token expired or unknown",
                operation=operation,
                code="AccessDeniedException",
            )
        chat = self.chats[state.contact_id]
        if self._is_over(chat):
            raise SessionEnded("chat has ended", operation=operation, code="AccessDeniedException")
        return chat

    def _once(
        self, chat: FakeChat, operation: str, client_token: str, make: Callable[[str], ChatEntry]
    ) -> str:
        key = (chat.contact_id, operation, client_token)
        previous = self._results.get(key)
        if previous is not None:
            return previous
        item_id = f"item-{next(self._ids):04d}"
        chat.transcript.append(make(item_id))
        self._results[key] = item_id
        self.calls.append((operation, chat.contact_id))
        return item_id


def _check_client_token(token: str, operation: str) -> None:
    # Connect documents ClientToken as at most 500 characters.
    if not 0 < len(token) <= 500:
        raise PermanentError(
            "ClientToken must be 1-500 characters", operation=operation, code="ValidationException"
        )


# --------------------------------------------------------------------------------------------
# Conversion


WAV_HEAD = b"RIFF\x24\x00\x00\x00WAVEfmt "
OGG_OPUS_HEAD = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead"


@dataclass
class RecordingConverter:
    """A converter that keeps what it was asked: the output is a recognisable header + input."""

    store: MediaStore
    conversions: list[tuple[str, str]] = field(default_factory=list)  # (source key, target)
    _faults: _Faults = field(default_factory=_Faults, repr=False)

    def fail_next(self, error: Exception, *, times: int = 1) -> None:
        self._faults.add(error, None, times)

    def convert(
        self, media: StoredMedia, *, target: str, key: str, max_bytes: int = 0
    ) -> Conversion:
        self._faults.check("convert")
        heads = {
            "wav16k": (WAV_HEAD, "audio/wav"),
            "ogg-opus": (OGG_OPUS_HEAD, "audio/ogg"),
            "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
            "jpeg": (b"\xff\xd8\xff\xe0", "image/jpeg"),
            "mp4": (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        }
        if target not in heads:
            raise PermanentError(f"unknown target {target}", operation="convert")
        head, content_type = heads[target]
        body = _read(self.store, media)
        self.conversions.append((media.key, target))
        room = max_bytes - len(head)
        if target == "wav16k" and max_bytes and len(head) + len(body) > max_bytes and room > 0:
            # Like the real converter: audio that does not fit comes back in numbered parts.
            pieces = [body[i : i + room] for i in range(0, len(body), room)]
            parts = tuple(
                self.store.put(
                    f"{key}-{n}of{len(pieces)}", [head + piece], content_type=content_type
                )
                for n, piece in enumerate(pieces, start=1)
            )
            return Conversion(stored=parts[0], parts=parts, duration_seconds=1.0)
        stored = self.store.put(key, [head + body], content_type=content_type)
        return Conversion(stored=stored, duration_seconds=1.0)
