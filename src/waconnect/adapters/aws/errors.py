"""The one place where botocore's errors become waconnect's error tree, each labelled a Kind.

Every AWS adapter wraps its calls in :func:`translate_errors`; nothing else inspects a
``ClientError``. The mapping follows the error codes of the three services' models:

- AccessDeniedException from Connect or the Participant Service means the chat is over or its
  token was refused (that is what an expired token or an ended chat returns): ``SessionEnded``.
  From End User Messaging it is a missing permission: ``PermanentError``.
- StartChatContact's LimitExceededException is the active-chat quota: ``CapacityExceeded``
  (elsewhere LimitExceededException is request throttling).
- Throttling, 5xx, InternalService*, DependencyException and connections never made:
  ``TransientError``. A read timeout, a connection dropped mid-request or a 5xx of a call
  *without* an idempotency token (``idempotent=False``: End User Messaging's send) may have taken
  effect: ``Unconfirmed``, never retried blindly. Throttling and refusals stay transient or
  permanent: such a request certainly did not take effect.
- Validation and other 4xx refusals: ``PermanentError``. End User Messaging passes Meta's
  error code in its message; only here is that text read, to label the kind.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ParamValidationError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from waconnect.errors import (
    CapacityExceeded,
    DeliveryError,
    Kind,
    PermanentError,
    SessionEnded,
    TransientError,
    Unconfirmed,
    meta_error_kind,
)

logger = logging.getLogger(__name__)

# Services whose AccessDeniedException means "this chat (or its token) is over".
SESSION_SERVICES = frozenset({"connect", "connectparticipant"})

_THROTTLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ThrottledRequestException",
        "LimitExceededException",
        "TooManyRequestsException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "SlowDown",
        "Throttling",
        "ProvisionedThroughputExceededException",
    }
)
# The operations whose LimitExceededException means "too many open at once", not "too fast".
_CAPACITY_OPERATIONS = frozenset({"StartChatContact"})
_RATE_WORDS = re.compile(r"\b(rate|throttl\w*|TPS|too many requests)\b", re.IGNORECASE)
_META_CODE = re.compile(r"\b(1[0-9]{5}|470)\b")

_TRANSIENT_CODES = _THROTTLE_CODES | frozenset(
    {
        "InternalServiceException",
        "InternalServerException",
        "InternalServiceError",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "DependencyException",
        "RequestTimeout",
        "RequestTimeoutException",
        # S3 and DynamoDB, whose adapters share this translator; some of these come back as 400.
        "InternalError",
        "TransactionConflictException",
    }
)

_PERMANENT_CODES = frozenset(
    {
        "ValidationException",
        "InvalidParameterException",
        "InvalidParametersException",
        "InvalidRequestException",
        "ResourceNotFoundException",
        "ConflictException",
        "ServiceQuotaExceededException",
        "AccessDeniedByMetaException",
        "DuplicateResourceException",
        "UnauthorizedException",
    }
)


def classify(
    service: str, code: str, status: int, *, operation: str = ""
) -> tuple[type[DeliveryError], Kind]:
    """The error class and kind for an AWS error ``code`` with HTTP ``status`` from ``service``."""
    if code == "AccessDeniedException":
        if service in SESSION_SERVICES:
            return SessionEnded, Kind.SESSION_ENDED
        return PermanentError, Kind.DENIED
    if code == "LimitExceededException" and operation in _CAPACITY_OPERATIONS:
        return CapacityExceeded, Kind.CAPACITY
    if code in _THROTTLE_CODES or status == 429:
        return TransientError, Kind.THROTTLED
    if code in _TRANSIENT_CODES or code.startswith("InternalService") or status >= 500:
        return TransientError, Kind.UNAVAILABLE
    if code == "ResourceNotFoundException":
        return PermanentError, Kind.NOT_FOUND
    if code in _PERMANENT_CODES or code.startswith("InvalidParameter"):
        return PermanentError, Kind.REFUSED
    # Codes no model lists yet: the status decides, as botocore's retry handler does.
    if status == 403 and service in SESSION_SERVICES:
        return SessionEnded, Kind.SESSION_ENDED
    return PermanentError, Kind.REFUSED


def _meta_kind(service: str, message: str, kind: Kind) -> Kind:
    """End User Messaging relays Meta's refusals with Meta's code in the message text."""
    if service != "socialmessaging":
        return kind
    found = _META_CODE.search(message)
    meta = meta_error_kind(found.group(1)) if found else Kind.UNKNOWN
    return kind if meta is Kind.UNKNOWN else meta


@contextmanager
def translate_errors(operation: str, *, service: str, idempotent: bool = True) -> Iterator[None]:
    """Run an AWS call, raising our errors (``from`` the SDK's) with operation, code and kind.

    ``idempotent=False`` for a call that has no idempotency token: an outcome that leaves open
    whether it took effect becomes ``Unconfirmed`` instead of ``TransientError``.
    """
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.get("Message", "")) or code
        kind, label = classify(service, code, status, operation=operation)
        if kind is CapacityExceeded and _RATE_WORDS.search(message):
            # StartChatContact names two limits with one code; only its message tells a request
            # rate (retry soon) from the active-chat quota (wait for room).
            kind, label = TransientError, Kind.THROTTLED
        label = _meta_kind(service, message, label)
        if not idempotent and kind is TransientError and label is Kind.UNAVAILABLE:
            kind = Unconfirmed  # a server error says nothing about whether it was sent
        logger.info("%s %s failed: %s (HTTP %s)", service, operation, code, status)
        raise kind(
            f"{operation}: {code}: {message}", operation=operation, code=code, kind=label
        ) from exc
    except ParamValidationError as exc:
        raise PermanentError(
            f"{operation}: invalid parameters: {exc}", operation=operation, code="ParamValidation"
        ) from exc
    except BotoConnectionError as exc:
        # The connection was never made (refused, DNS, connect timeout): nothing was sent.
        code = type(exc).__name__
        raise TransientError(
            f"{operation}: {code}", operation=operation, code=code, kind=Kind.NOT_CONNECTED
        ) from exc
    except HTTPClientError as exc:
        # Sent, then no (complete) answer: a read timeout or a connection dropped mid-request.
        code = type(exc).__name__
        ambiguous = Unconfirmed if not idempotent else TransientError
        raise ambiguous(
            f"{operation}: {code}", operation=operation, code=code, kind=Kind.TIMED_OUT
        ) from exc
    except _httpx_transport_errors() as exc:
        code = type(exc).__name__
        connect_error = sys.modules["httpx"].ConnectError
        label = Kind.NOT_CONNECTED if isinstance(exc, connect_error) else Kind.TIMED_OUT
        raise TransientError(
            f"{operation}: {code}", operation=operation, code=code, kind=label
        ) from exc
    except BotoCoreError as exc:
        # Credentials, configuration or response-parsing problems: retrying will not help.
        code = type(exc).__name__
        raise PermanentError(
            f"{operation}: {code}: {exc}", operation=operation, code=code, kind=Kind.MISCONFIGURED
        ) from exc


def _httpx_transport_errors() -> tuple[type[BaseException], ...]:
    """httpx's transport errors, when httpx is loaded: an httpx error cannot happen before, and
    a process that never transfers a file (a text) never imports httpx."""
    httpx = sys.modules.get("httpx")
    return () if httpx is None else (httpx.TransportError,)
