"""The exceptions waconnect raises, and what each one means for a caller.

    WaconnectError
    ├── MalformedPayload     input that can never be processed: reject it, never retry
    ├── ConfigurationError   settings that are missing or contradict each other
    └── DeliveryError        a call to WhatsApp, Connect or a store did not do what was asked
        ├── TransientError   certainly did not take effect, may work later (throttling, 5xx,
        │                    connection not made, a timeout of a call with an idempotency token)
        ├── Unconfirmed      may have taken effect and has no idempotency token (a WhatsApp send
        │                    that timed out): never repeated blindly
        ├── CapacityExceeded no room right now (Connect's active-chat quota): wait, not a failure
        ├── PermanentError   will fail again the same way (validation, refused file): dead-letter
        │   ├── UnsafeUrl    a signed URL that points somewhere we refuse to go
        │   └── DoesNotFit   a conversion cannot make the file as small as asked
        └── SessionEnded     the Connect chat is over (or its token refused): open a new one

Adapters translate SDK and HTTP errors into this tree in one place each, with
``raise ... from exc``, and label each error with a :class:`Kind` where it happens (Meta's error
codes through :func:`meta_error_kind`), so that nobody downstream searches an error's text.
Only entrypoints decide what an error means for their transport.
"""

from __future__ import annotations

import enum


class Kind(enum.StrEnum):
    """What went wrong, as the adapter that saw it labelled it."""

    UNKNOWN = "unknown"
    THROTTLED = "throttled"  # asked to slow down: nothing happened
    UNAVAILABLE = "unavailable"  # a server error or a dependency down
    NOT_CONNECTED = "not_connected"  # the request never left: nothing happened
    TIMED_OUT = "timed_out"  # no answer in time: it may have taken effect
    CAPACITY = "capacity"  # a quota of things open at once (active chats) is full
    SESSION_ENDED = "session_ended"
    REFUSED = "refused"  # the request itself was refused (validation and other 4xx)
    DENIED = "denied"  # a permission is missing
    NOT_FOUND = "not_found"
    MISCONFIGURED = "misconfigured"
    OUTSIDE_WINDOW = "outside_window"  # WhatsApp's 24-hour customer service window is closed
    MEDIA_REFUSED = "media_refused"  # WhatsApp would not take the file (type, encoding)
    MEDIA_UNAVAILABLE = "media_unavailable"  # a file could not be downloaded
    UNDELIVERABLE = "undeliverable"  # WhatsApp could not deliver to this customer
    NOT_ON_WHATSAPP = "not_on_whatsapp"  # the number is not a WhatsApp account


# Meta's error codes (Cloud API, also inside End User Messaging's errors and failed statuses).
_META_KINDS: dict[int, Kind] = {
    4: Kind.THROTTLED,  # application request limit
    80007: Kind.THROTTLED,  # WhatsApp Business Account rate limit
    130429: Kind.THROTTLED,  # Cloud API throughput
    131048: Kind.THROTTLED,  # spam rate limit
    131056: Kind.THROTTLED,  # too many messages to one customer (pair rate limit)
    131000: Kind.UNAVAILABLE,  # something went wrong
    131016: Kind.UNAVAILABLE,  # service unavailable
    133004: Kind.UNAVAILABLE,  # server temporarily unavailable
    131047: Kind.OUTSIDE_WINDOW,  # more than 24 hours since the customer last wrote
    470: Kind.OUTSIDE_WINDOW,  # the same, before Graph API v12
    131053: Kind.MEDIA_REFUSED,  # media upload error (type or encoding)
    131052: Kind.MEDIA_UNAVAILABLE,  # media download error
    131026: Kind.UNDELIVERABLE,  # message undeliverable
    131049: Kind.UNDELIVERABLE,  # not delivered to keep the ecosystem healthy
    131030: Kind.NOT_ON_WHATSAPP,  # recipient not in the allowed list (test numbers)
    131021: Kind.REFUSED,  # recipient cannot be the sender
    131008: Kind.REFUSED,  # required parameter missing
    131009: Kind.REFUSED,  # parameter value invalid
    131051: Kind.REFUSED,  # unsupported message type
    100: Kind.REFUSED,  # invalid parameter
    190: Kind.MISCONFIGURED,  # access token expired
    10: Kind.MISCONFIGURED,  # permission denied
    200: Kind.MISCONFIGURED,  # permission missing
}


def meta_error_kind(code: int | str) -> Kind:
    """The kind of one of Meta's WhatsApp error codes (``UNKNOWN`` for codes not listed)."""
    try:
        number = int(str(code).strip())
    except ValueError:
        return Kind.UNKNOWN
    return _META_KINDS.get(number, Kind.UNKNOWN)


class WaconnectError(Exception):
    """Base of every error waconnect raises on purpose."""


class MalformedPayload(WaconnectError):
    """A payload that cannot be understood, naming its source and the path of the bad field."""

    def __init__(self, source: str, path: str, reason: str) -> None:
        self.source = source
        self.path = path
        self.reason = reason
        super().__init__(f"{source}: {path}: {reason}")


class ConfigurationError(WaconnectError):
    """Settings that are missing or invalid; the message names every problem at once."""


class DeliveryError(WaconnectError):
    """A dependency did not do what was asked."""

    default_kind = Kind.UNKNOWN

    def __init__(
        self, message: str, *, operation: str = "", code: str = "", kind: Kind | None = None
    ) -> None:
        self.operation = operation
        self.code = code
        self.kind = kind if kind is not None else self.default_kind
        super().__init__(message)


class TransientError(DeliveryError):
    """Worth retrying with backoff: throttling, server errors, timeouts, connection resets."""

    default_kind = Kind.UNAVAILABLE


class Unconfirmed(DeliveryError):
    """A request without an idempotency token that may have taken effect: it timed out after
    being sent, or the server failed while handling it. Repeating it could do it twice."""

    default_kind = Kind.TIMED_OUT


class CapacityExceeded(DeliveryError):
    """A quota of things open at once is full (Connect's active chats): wait until there is
    room. Not a failure, and not retried soon like throttling."""

    default_kind = Kind.CAPACITY


class PermanentError(DeliveryError):
    """Will fail the same way again: the request itself is refused."""

    default_kind = Kind.REFUSED


class UnsafeUrl(PermanentError):
    """A URL outside the allowlist, or one that tries to smuggle a host past it."""


class DoesNotFit(PermanentError):
    """A conversion cannot make the file as small as asked: its size, not its content, is why
    (a larger limit, such as WhatsApp's for documents, may take it)."""


class SessionEnded(DeliveryError):
    """The chat is over, or Connect refused its token: a new chat must carry the message."""

    default_kind = Kind.SESSION_ENDED
