"""The exceptions waconnect raises, and what each one means for a caller.

    WaconnectError
    ├── MalformedPayload     input that can never be processed: reject it, never retry
    ├── ConfigurationError   settings that are missing or contradict each other
    └── DeliveryError        a call to WhatsApp, Connect or a store did not do what was asked
        ├── TransientError   may work if tried again later (throttling, 5xx, timeouts)
        ├── PermanentError   will fail again the same way (validation, refused file): dead-letter
        │   └── UnsafeUrl    a signed URL that points somewhere we refuse to go
        └── SessionEnded     the Connect chat is over (or its token refused): open a new one

Adapters translate SDK and HTTP errors into this tree in one place each, with
``raise ... from exc``. Only entrypoints decide what an error means for their transport.
"""

from __future__ import annotations


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

    def __init__(self, message: str, *, operation: str = "", code: str = "") -> None:
        self.operation = operation
        self.code = code
        super().__init__(message)


class TransientError(DeliveryError):
    """Worth retrying with backoff: throttling, server errors, timeouts, connection resets."""


class PermanentError(DeliveryError):
    """Will fail the same way again: the request itself is refused."""


class UnsafeUrl(PermanentError):
    """A URL outside the allowlist, or one that tries to smuggle a host past it."""


class SessionEnded(DeliveryError):
    """The chat is over, or Connect refused its token: a new chat must carry the message."""
