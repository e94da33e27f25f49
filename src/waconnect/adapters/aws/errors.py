"""The one place where botocore's errors become waconnect's error tree.

Every AWS adapter wraps its calls in :func:`translate_errors`; nothing else inspects a
``ClientError``. The mapping follows the error codes of the three services' models:

- AccessDeniedException from Connect or the Participant Service means the chat is over or its
  token was refused (that is what an expired token or an ended chat returns): ``SessionEnded``.
  From End User Messaging it is a missing permission: ``PermanentError``.
- Throttling, 5xx, InternalService*, DependencyException, timeouts and connection errors:
  ``TransientError``.
- Validation and other 4xx refusals: ``PermanentError``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    ParamValidationError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from waconnect.errors import DeliveryError, PermanentError, SessionEnded, TransientError

logger = logging.getLogger(__name__)

# Services whose AccessDeniedException means "this chat (or its token) is over".
SESSION_SERVICES = frozenset({"connect", "connectparticipant"})

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ThrottledRequestException",
        "LimitExceededException",
        "TooManyRequestsException",
        "TooManyRequests",
        "RequestLimitExceeded",
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
        "SlowDown",
        "Throttling",
        "InternalError",
        "ProvisionedThroughputExceededException",
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


def classify(service: str, code: str, status: int) -> type[DeliveryError]:
    """The error class for an AWS error ``code`` with HTTP ``status`` from ``service``."""
    if code == "AccessDeniedException":
        return SessionEnded if service in SESSION_SERVICES else PermanentError
    if code in _TRANSIENT_CODES or code.startswith("InternalService"):
        return TransientError
    if code in _PERMANENT_CODES or code.startswith("InvalidParameter"):
        return PermanentError
    # Codes no model lists yet: the status decides, as botocore's retry handler does.
    if status == 429 or status >= 500:
        return TransientError
    if status == 403 and service in SESSION_SERVICES:
        return SessionEnded
    return PermanentError


@contextmanager
def translate_errors(operation: str, *, service: str) -> Iterator[None]:
    """Run an AWS call, raising our errors (``from`` the SDK's) with operation and code kept."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.get("Message", "")) or code
        kind = classify(service, code, status)
        logger.info("%s %s failed: %s (HTTP %s)", service, operation, code, status)
        raise kind(f"{operation}: {code}: {message}", operation=operation, code=code) from exc
    except ParamValidationError as exc:
        raise PermanentError(
            f"{operation}: invalid parameters: {exc}", operation=operation, code="ParamValidation"
        ) from exc
    except (BotoConnectionError, HTTPClientError) as exc:
        code = type(exc).__name__
        raise TransientError(f"{operation}: {code}", operation=operation, code=code) from exc
    except httpx.TransportError as exc:
        code = type(exc).__name__
        raise TransientError(f"{operation}: {code}", operation=operation, code=code) from exc
    except BotoCoreError as exc:
        # Credentials, configuration or response-parsing problems: retrying will not help.
        code = type(exc).__name__
        raise PermanentError(f"{operation}: {code}: {exc}", operation=operation, code=code) from exc
