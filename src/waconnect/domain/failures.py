"""Failures as values: what did not arrive, why, and what to tell whom.

A use case that cannot deliver something turns the error into a :class:`Failure` with
:func:`failure_from_error` (or :func:`failure_from_whatsapp_error` for a failed WhatsApp status)
and hands it on. The words for the customer (``customer_text``: short, actionable, or None when
they should not be told) and for the agent (``agent_text``: what did not arrive and why) come from
here and nowhere else; the operator gets ``log_fields()``: codes and kinds, never content.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from waconnect.domain.text import shorten
from waconnect.domain.whatsapp import WhatsAppError
from waconnect.errors import (
    CapacityExceeded,
    ConfigurationError,
    DeliveryError,
    Kind,
    MalformedPayload,
    SessionEnded,
    TransientError,
    Unconfirmed,
    UnsafeUrl,
    WaconnectError,
    meta_error_kind,
)


class FailureReason(enum.StrEnum):
    MEDIA_TOO_LARGE = "media_too_large"
    MEDIA_TYPE_REFUSED = "media_type_refused"
    FILE_REFUSED = "file_refused"  # the bridge's own check: a disguised program, a bomb…
    MEDIA_FETCH_FAILED = "media_fetch_failed"
    EMPTY_FILE = "empty_file"  # nothing to pass on: zero bytes
    CONVERSION_FAILED = "conversion_failed"
    TRANSCRIPTION_FAILED = "transcription_failed"
    CONNECT_REFUSED = "connect_refused"
    CHAT_UNAVAILABLE = "chat_unavailable"
    WHATSAPP_REFUSED = "whatsapp_refused"
    OUTSIDE_24H_WINDOW = "outside_24h_window"
    ATTACHMENT_REJECTED = "attachment_rejected"
    UNKNOWN_CONTACT = "unknown_contact"
    MALFORMED = "malformed"
    MISCONFIGURED = "misconfigured"
    TRANSIENT_EXHAUSTED = "transient_exhausted"
    UNCONFIRMED = "unconfirmed"
    UNDELIVERABLE = "undeliverable"


class Direction(enum.StrEnum):
    """Which way the thing that did not arrive was going."""

    TO_AGENT = "to_agent"  # the customer sent it
    TO_CUSTOMER = "to_customer"  # the agent sent it


@dataclass(frozen=True, slots=True, kw_only=True)
class _Words:
    agent_why: str  # completes "did not arrive: …"; {side} names where it was going
    customer_why: str = ""  # completes "did not reach our agent: …"
    customer_action: str | None = None  # None: the customer is not told
    certain: bool = True
    retry: bool = False


_WORDS: dict[FailureReason, _Words] = {
    FailureReason.MEDIA_TOO_LARGE: _Words(
        agent_why="it is larger than {side} accepts",
        customer_why="it is too large",
        customer_action="Please send a smaller file, or a link to it.",
    ),
    FailureReason.MEDIA_TYPE_REFUSED: _Words(
        agent_why="{side} does not accept this type of file",
        customer_why="this type of file can't be received",
        customer_action="Please send it as a PDF or a photo instead.",
    ),
    FailureReason.FILE_REFUSED: _Words(
        agent_why="the bridge does not pass on this file",
        customer_why="this file can't be received",
        customer_action="Please send it as a PDF or a photo instead.",
    ),
    FailureReason.MEDIA_FETCH_FAILED: _Words(
        agent_why="the file could not be downloaded",
        customer_why="we could not download it",
        customer_action="Please send it again.",
        retry=True,
    ),
    FailureReason.EMPTY_FILE: _Words(
        agent_why="the file is empty",
        customer_why="the file is empty",
        customer_action="Please send it again.",
    ),
    FailureReason.CONVERSION_FAILED: _Words(
        agent_why="it could not be converted to a format {side} accepts",
        customer_why="we could not open it",
        customer_action="Please send it again in another format.",
    ),
    FailureReason.TRANSCRIPTION_FAILED: _Words(agent_why="the speech could not be transcribed"),
    FailureReason.CONNECT_REFUSED: _Words(
        agent_why="Amazon Connect refused it",
        customer_action="Please try again, or send it another way.",
    ),
    FailureReason.CHAT_UNAVAILABLE: _Words(
        agent_why="the chat was not available",
        customer_why="no chat with an agent could be opened",
        customer_action="Please try again in a few minutes.",
        retry=True,
    ),
    FailureReason.WHATSAPP_REFUSED: _Words(agent_why="WhatsApp refused it"),
    FailureReason.OUTSIDE_24H_WINDOW: _Words(
        agent_why=(
            "more than 24 hours have passed since the customer's last message, and WhatsApp "
            "allows only approved templates until they write again"
        ),
    ),
    FailureReason.ATTACHMENT_REJECTED: _Words(
        agent_why="the attachment scan rejected it",
        customer_why="a security check blocked it",
        customer_action="Please check the file and send another one.",
    ),
    FailureReason.UNKNOWN_CONTACT: _Words(
        agent_why="no WhatsApp conversation is linked to this chat"
    ),
    FailureReason.MALFORMED: _Words(agent_why="its content could not be read"),
    FailureReason.MISCONFIGURED: _Words(
        agent_why="the bridge is misconfigured (the details are in its logs)",
        customer_why="of a problem on our side",
        customer_action="Please try again later.",
        retry=True,
    ),
    FailureReason.TRANSIENT_EXHAUSTED: _Words(
        agent_why="the service did not answer in time, even after several tries",
        customer_action="Please send it again in a few minutes.",
        certain=False,
        retry=True,
    ),
    FailureReason.UNCONFIRMED: _Words(
        agent_why=(
            "{side} did not confirm it in time; it was not sent again, so that the customer "
            "never gets it twice"
        ),
        certain=False,
    ),
    FailureReason.UNDELIVERABLE: _Words(
        agent_why=(
            "WhatsApp could not deliver it to this customer (their phone may be off or "
            "unreachable, or the number may not use WhatsApp)"
        ),
    ),
}

# Subjects that name a kind of thing rather than a file: safe to log, and read as words.
_SUBJECT_WORDS = {
    "": "message",
    "message": "message",
    "text": "message",
    "file": "file",
    "image": "photo",
    "video": "video",
    "audio": "audio message",
    "voice": "voice note",
    "document": "document",
    "sticker": "sticker",
    "location": "location",
    "contacts": "contact card",
    "interactive": "reply",
    "button": "reply",
    "reaction": "reaction",
    "order": "order",
    "system": "message",
    "unsupported": "message",
    "unknown": "message",
    "transcript": "transcript",
}
_SIDES = {Direction.TO_AGENT: "this chat", Direction.TO_CUSTOMER: "WhatsApp"}
_DETAIL_LIMIT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """Something that did not arrive (``certain``) or may not have (not ``certain``).

    ``subject`` is what it was: a file name, or a word such as "message" or "image".
    ``detail`` is for the agent and never logged; ``retry`` says trying again later may work.
    """

    reason: FailureReason
    direction: Direction = Direction.TO_AGENT
    certain: bool = True
    retry: bool = False
    subject: str = ""
    detail: str = ""
    code: str = ""
    operation: str = ""
    quote: str = ""  # the words of the message, to name it (never logged)

    @classmethod
    def of(
        cls,
        reason: FailureReason,
        *,
        direction: Direction = Direction.TO_AGENT,
        subject: str = "",
        detail: str = "",
        code: str = "",
        operation: str = "",
        certain: bool | None = None,
        retry: bool | None = None,
    ) -> Failure:
        """A failure with the usual certainty and retry advice for its reason."""
        words = _WORDS[reason]
        return cls(
            reason=reason,
            direction=direction,
            certain=words.certain if certain is None else certain,
            retry=words.retry if retry is None else retry,
            subject=subject,
            detail=detail,
            code=code,
            operation=operation,
        )

    @property
    def customer_text(self) -> str | None:
        """A short, plain message for the customer, or None when they should not be told."""
        words = _WORDS[self.reason]
        if self.direction is Direction.TO_CUSTOMER or words.customer_action is None:
            return None
        verb = "did not reach our agent" if self.certain else "may not have reached our agent"
        why = f" because {words.customer_why}" if words.customer_why else ""
        return f"Sorry, your {self._thing()} {verb}{why}. {words.customer_action}"

    @property
    def agent_text(self) -> str:
        """A notice for the agent naming what did not arrive and why."""
        why = _WORDS[self.reason].agent_why.format(side=_SIDES[self.direction])
        # A detail that only repeats the reason's own words adds nothing.
        extra = ", ".join(p for p in (self._detail(), self._code()) if p and p not in why)
        why += f" ({extra})" if extra else ""
        if self.direction is Direction.TO_AGENT:
            verb = "did not arrive" if self.certain else "may not have arrived"
            if self.reason is FailureReason.TRANSCRIPTION_FAILED:
                return f"⚠️ No transcript for the customer's {self._thing()}: {why}."
            return f"⚠️ The customer's {self._thing()} {verb}: {why}."
        verb = "did not reach the customer" if self.certain else "may not have reached the customer"
        again = " You can try again." if self.retry else ""
        return f"⚠️ Your {self._thing()} {verb}: {why}.{again}"

    def log_fields(self) -> dict[str, str | bool]:
        """Codes and kinds for a log line, a metric or a dead-letter record: never content."""
        return {
            "reason": self.reason.value,
            "direction": self.direction.value,
            "certain": self.certain,
            "retry": self.retry,
            "subject": self.subject if self.subject in _SUBJECT_WORDS else "file",
            "code": self.code,
            "operation": self.operation,
        }

    def _thing(self) -> str:
        word = _SUBJECT_WORDS.get(self.subject)
        thing = word if word is not None else f"file “{self.subject}”"
        return f"{thing} “{self.quote}”" if self.quote else thing

    def _detail(self) -> str:
        return shorten(self.detail, _DETAIL_LIMIT) if self.detail else ""

    def _code(self) -> str:
        return f"code {self.code}" if self.code and self.code not in self.detail else ""


# Operations as the adapters name them (AWS operations, transfer verbs, port steps).
_TOWARD_CUSTOMER = frozenset(
    {"SendWhatsAppMessage", "PostWhatsAppMessageMedia", "GetAttachment", "send", "upload_media"}
)
_TOWARD_AGENT = frozenset(
    {
        "GetWhatsAppMessageMedia",
        "fetch_media",
        "StartChatContact",
        "StartContactStreaming",
        "CreateParticipantConnection",
        "SendMessage",
        "SendEvent",
        "StartAttachmentUpload",
        "CompleteAttachmentUpload",
    }
)
_FETCHES = frozenset({"GetWhatsAppMessageMedia", "fetch_media", "GetAttachment", "GET", "transfer"})
_STORE_PREFIXES = ("Put", "Get", "Head", "List", "Create", "Complete", "Upload", "Generate")
# Kinds an adapter labelled, and the reason each one means wherever it happened.
_KIND_REASONS = {
    Kind.OUTSIDE_WINDOW: FailureReason.OUTSIDE_24H_WINDOW,
    Kind.MEDIA_REFUSED: FailureReason.MEDIA_TYPE_REFUSED,
    Kind.MEDIA_UNAVAILABLE: FailureReason.MEDIA_FETCH_FAILED,
    Kind.UNDELIVERABLE: FailureReason.UNDELIVERABLE,
    Kind.NOT_ON_WHATSAPP: FailureReason.UNDELIVERABLE,
    Kind.THROTTLED: FailureReason.TRANSIENT_EXHAUSTED,
    Kind.UNAVAILABLE: FailureReason.TRANSIENT_EXHAUSTED,
}


def failure_from_error(
    exc: WaconnectError,
    *,
    subject: str,
    direction: Direction | None = None,
) -> Failure:
    """The failure an error means. ``direction`` defaults to what the failed operation implies
    (toward the agent when it does not say)."""
    operation = exc.operation if isinstance(exc, DeliveryError) else ""
    code = exc.code if isinstance(exc, DeliveryError) else ""
    way = direction or _direction_of(operation)
    detail = str(exc)

    def made(reason: FailureReason, **overrides: bool) -> Failure:
        return Failure.of(
            reason,
            direction=way,
            subject=subject,
            # A provider's error (one with a code) words things for developers and can hold
            # storage keys and ARNs: the agent gets the reason and the code. Our own errors
            # (a file that would not convert) are worded for people and say what went wrong.
            detail="" if code else detail,
            code=code,
            operation=operation,
            **overrides,
        )

    match exc:
        case MalformedPayload():
            return made(FailureReason.MALFORMED)
        case ConfigurationError():
            return made(FailureReason.MISCONFIGURED)
        case TransientError():
            return made(FailureReason.TRANSIENT_EXHAUSTED)
        case Unconfirmed():
            return made(FailureReason.UNCONFIRMED)
        case SessionEnded() | CapacityExceeded():
            return made(FailureReason.CHAT_UNAVAILABLE)
        case UnsafeUrl():
            return made(FailureReason.MEDIA_FETCH_FAILED, retry=False)
        case DeliveryError() if type(exc) is DeliveryError:
            return made(_refusal(way), certain=False)
        case DeliveryError():
            return made(_permanent_reason(operation, code, exc.kind, way))
    return made(_refusal(way), certain=False)


def _direction_of(operation: str) -> Direction:
    if operation in _TOWARD_CUSTOMER:
        return Direction.TO_CUSTOMER
    return Direction.TO_AGENT


def _refusal(way: Direction) -> FailureReason:
    if way is Direction.TO_CUSTOMER:
        return FailureReason.WHATSAPP_REFUSED
    return FailureReason.CONNECT_REFUSED


def _permanent_reason(operation: str, code: str, kind: Kind, way: Direction) -> FailureReason:
    if kind in _KIND_REASONS and kind not in (Kind.THROTTLED, Kind.UNAVAILABLE):
        return _KIND_REASONS[kind]
    if operation == "convert":
        return FailureReason.CONVERSION_FAILED
    if operation == "StartAttachmentUpload" and code == "ValidationException":
        # Connect validates the file's type and size when the upload starts.
        return FailureReason.MEDIA_TYPE_REFUSED
    if operation in _FETCHES:
        return FailureReason.MEDIA_FETCH_FAILED
    if operation not in _TOWARD_AGENT and operation.startswith(_STORE_PREFIXES):
        # The media store (S3 or a folder) refused: the file could not be handled at all.
        return FailureReason.MEDIA_FETCH_FAILED
    return _refusal(way)


def failure_from_whatsapp_error(error: WhatsAppError, *, subject: str = "message") -> Failure:
    """The failure a ``failed`` status from WhatsApp means for what the agent sent."""
    code = str(error.code)
    detail = ": ".join(p for p in (error.title or error.message, error.details) if p)
    reason = _KIND_REASONS.get(meta_error_kind(code), FailureReason.WHATSAPP_REFUSED)
    return Failure.of(
        reason,
        direction=Direction.TO_CUSTOMER,
        subject=subject,
        detail=detail,
        code=code,
        operation="status",
        # A failed status is WhatsApp's final word: the message certainly did not arrive.
        certain=True,
    )
