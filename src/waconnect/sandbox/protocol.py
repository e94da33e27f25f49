"""The AWS REST-JSON wire protocol, server side: route, parse and validate like the real services
(the RPC protocols of JSON services, as Transcribe speaks them, are in ``rpc_protocols``).

Requests are routed on each operation's ``requestUri`` in botocore's service model, rebuilt with
botocore's own REST-JSON parser and validated with its ``ParamValidator``; the limits botocore
leaves unchecked (maximum lengths and values, enums, patterns, minimum sizes of maps and blobs)
are checked here from the same model.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.awsrequest import HeadersDict
from botocore.model import (
    ListShape,
    MapShape,
    OperationModel,
    ServiceModel,
    Shape,
    StringShape,
    StructureShape,
)
from botocore.parsers import RestJSONParser
from botocore.validate import ParamValidator

from waconnect.sandbox.shared_models import botocore_session

# Signing name in the credential scope -> botocore service name.
SERVICES_BY_SCOPE = {
    "social-messaging": "socialmessaging",
    "connect": "connect",
    "execute-api": "connectparticipant",
    "transcribe": "transcribe",
}

# The error code each service uses for a request that fails validation.
VALIDATION_ERROR = {
    "socialmessaging": "ValidationException",
    "connect": "InvalidParameterException",
    "connectparticipant": "ValidationException",
    "transcribe": "BadRequestException",
}

logger = logging.getLogger(__name__)

# Patterns that name AWS's own hosts: a URL of the sandbox's S3 (plain HTTP on loopback) stands in
# for them, as the sandbox cannot serve https://<bucket>.s3.amazonaws.com.
_AWS_HOST_PATTERNS = frozenset({"S3PresignedUrlUrlString"})
_SANDBOX_URL = re.compile(r"http://127\.0\.0\.1:\d+/.*")

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class ApiError(Exception):
    """An error response exactly as boto3 maps it to its exception classes."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status

    def body(self) -> bytes:
        return json.dumps({"message": self.message, "Message": self.message}).encode()

    def headers(self) -> dict[str, str]:
        return {"x-amzn-ErrorType": self.code, "content-type": "application/json"}


def access_denied(message: str = "Access denied") -> ApiError:
    return ApiError("AccessDeniedException", message, 403)


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One parsed and validated API call."""

    service: str
    operation: str
    params: dict[str, Any]
    region: str = ""


@cache
def service_model(name: str) -> ServiceModel:
    return botocore_session().get_service_model(name)


def service_for(authorization: str, path: str) -> tuple[str, str]:
    """(service, region) from the SigV4 credential scope; unsigned Participant calls by path."""
    match = _SCOPE.search(authorization)
    if match:
        region, scope = match.groups()
        service = SERVICES_BY_SCOPE.get(scope)
        if service is None:
            raise ApiError("UnrecognizedClientException", f"unknown service {scope!r}", 403)
        return service, region
    if path.startswith("/participant/"):
        # The Participant Service authenticates with X-Amz-Bearer; its calls are not signed.
        return "connectparticipant", ""
    raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 403)


def _route_pattern(request_uri: str) -> re.Pattern[str]:
    path = request_uri.split("?", 1)[0]
    parts = re.split(r"(\{[^}]+\})", path)
    regex = "".join(
        f"(?P<{part[1:-1].rstrip('+')}>[^/]+)" if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(f"^{regex}$")


@cache
def _routes(service: str) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    model = service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        routes.append((http["method"], _route_pattern(http["requestUri"]), name))
    return tuple(routes)


def route(service: str, method: str, path: str) -> tuple[OperationModel, dict[str, str]]:
    for route_method, pattern, name in _routes(service):
        match = pattern.match(path)
        if match and route_method == method:
            return service_model(service).operation_model(name), match.groupdict()
    raise ApiError("UnknownOperationException", f"no operation for {method} {path}", 404)


def parse_call(
    *,
    service: str,
    region: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> Call:
    operation, uri_params = route(service, method, path)
    shape = operation.input_shape
    params: dict[str, Any] = {}
    if shape is not None:
        params = _parse_input(
            service, shape=shape, uri_params=uri_params, query=query, headers=headers, body=body
        )
        validate_params(service, shape, params)
    return Call(service=service, operation=operation.name, params=params, region=region)


def _parse_input(
    service: str,
    *,
    shape: StructureShape,
    uri_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    refuse_unreadable_body(service, body)
    header_dict = HeadersDict(headers)
    parsed: dict[str, Any] = RestJSONParser().parse(
        {"status_code": 200, "headers": header_dict, "body": body or b"{}"}, shape
    )
    parsed.pop("ResponseMetadata", None)
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri" and wire_name in uri_params:
            parsed[name] = uri_params[wire_name]
        elif location == "querystring" and wire_name in query:
            parsed[name] = _scalar(member, query[wire_name])
    return parsed


def refuse_unreadable_body(service: str, body: bytes) -> None:
    """Refuse a JSON body that does not parse, or holds text no service can store."""
    if not body:
        return
    try:
        decoded = json.loads(body)
    except ValueError as exc:
        raise ApiError(VALIDATION_ERROR[service], "request body is not valid JSON") from exc
    if _has_lone_surrogate(decoded):
        # JSON may escape half of a UTF-16 pair; no service can store it as text.
        raise ApiError(
            VALIDATION_ERROR[service], "request body holds text that is not valid Unicode"
        )


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _scalar(shape: Shape, value: str) -> Any:
    if shape.type_name in {"integer", "long"}:
        return int(value)
    if shape.type_name == "boolean":
        return value.lower() == "true"
    return value


def validate_params(service: str, shape: StructureShape, params: dict[str, Any]) -> None:
    """botocore's own validation, then the model's limits it leaves unchecked."""
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise ApiError(VALIDATION_ERROR[service], report.generate_report())
    problems: list[str] = []
    check_limits(shape, params, shape.name, problems)
    if problems:
        raise ApiError(VALIDATION_ERROR[service], "; ".join(problems))


def check_limits(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    """The model's limits that ``ParamValidator`` skips: maximum lengths and values, enums,
    ``pattern``s, and minimum sizes of maps and blobs."""
    meta = shape.metadata
    kind = shape.type_name
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                check_limits(member, value[name], f"{path}.{name}", problems)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        _check_max(meta, len(value), path, "items", problems)
        for index, item in enumerate(value):
            check_limits(shape.member, item, f"{path}[{index}]", problems)
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        _check_size(meta, len(value), path, "entries", problems)
        for key, item in value.items():
            check_limits(shape.key, key, f"{path}.key", problems)
            check_limits(shape.value, item, f"{path}.{key}", problems)
    elif isinstance(shape, StringShape) and isinstance(value, str):
        _check_max(meta, len(value), path, "characters", problems)
        enum = shape.enum
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {list(enum)}")
        _check_pattern(shape, value, path, problems)
    elif kind == "blob" and isinstance(value, bytes | bytearray):
        _check_size(meta, len(value), path, "bytes", problems)
    elif kind in {"integer", "long"} and isinstance(value, int) and value > meta.get("max", value):
        problems.append(f"{path}: {value} is greater than the maximum {meta['max']}")


def _check_max(meta: Mapping[str, Any], size: int, path: str, unit: str, out: list[str]) -> None:
    if "max" in meta and size > meta["max"]:
        out.append(f"{path}: {size} {unit} is more than the maximum {meta['max']}")


def _check_size(meta: Mapping[str, Any], size: int, path: str, unit: str, out: list[str]) -> None:
    _check_max(meta, size, path, unit, out)
    if "min" in meta and size < meta["min"]:
        out.append(f"{path}: {size} {unit} is less than the minimum {meta['min']}")


def _check_pattern(shape: StringShape, value: str, path: str, out: list[str]) -> None:
    source = shape.metadata.get("pattern")
    if not isinstance(source, str):
        return
    if shape.name in _AWS_HOST_PATTERNS and _SANDBOX_URL.fullmatch(value):
        return
    pattern = _compiled(source)
    # AWS services match the whole value (Java's String.matches), hence fullmatch.
    if pattern is not None and not pattern.fullmatch(value):
        out.append(f"{path}: {value!r} does not match the pattern {source}")


@cache
def _compiled(source: str) -> re.Pattern[str] | None:
    """The model's (Java) regex in Python; None, logged once, for what ``re`` cannot read."""
    try:
        return re.compile(source)
    except re.error as exc:
        logger.warning("pattern %r is not checked: %s", source, exc)
        return None


Handler = Callable[[Call, Mapping[str, str]], dict[str, Any]]
