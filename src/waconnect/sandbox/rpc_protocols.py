"""The two RPC wire protocols of AWS JSON services, server side: JSON 1.1 and Smithy RPC v2 CBOR.

Amazon Transcribe's model lists both (``metadata.protocols``); each botocore release sends the
first it supports, which for the installed one is RPC v2 CBOR, while older SDKs and the CLI send
JSON 1.1. The emulator answers each in the protocol it was asked in:

| protocol     | request                                                  | body      |
| JSON 1.1     | ``POST /``, ``X-Amz-Target: <targetPrefix>.<Operation>`` | JSON      |
| RPC v2 CBOR  | ``POST /service/<targetPrefix>/operation/<Operation>``,  | CBOR      |
|              | ``smithy-protocol: rpc-v2-cbor``                         |           |

Errors name their code as ``__type`` in the body, as botocore reads them for both. Requests are
decoded with botocore's own parsers and validated as every emulated call is (``protocol.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, cast

from botocore.awsrequest import HeadersDict
from botocore.model import OperationNotFoundError, ShapeResolver, StructureShape
from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer

from waconnect.sandbox.protocol import (
    VALIDATION_ERROR,
    ApiError,
    Call,
    refuse_unreadable_body,
    service_model,
    validate_params,
)

Wire = Literal["rest-json", "json", "rpc-v2-cbor"]
_RPC_PREFIX = "/service/"
_WIRE_NAMES = {"json": "json", "rpc-v2-cbor": "smithy-rpc-v2-cbor"}


def wire_of(path: str, headers: Mapping[str, str]) -> Wire:
    """The protocol a request speaks, from its path and headers."""
    found = HeadersDict(headers)
    if found.get("smithy-protocol") == "rpc-v2-cbor" or path.startswith(_RPC_PREFIX):
        return "rpc-v2-cbor"
    if "x-amz-target" in found:
        return "json"
    return "rest-json"


def parse_rpc_call(
    *,
    service: str,
    wire: Wire,
    region: str,
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Call:
    """A JSON 1.1 or RPC v2 CBOR call, parsed and validated against the service's model."""
    model = service_model(service)
    if _WIRE_NAMES.get(wire) not in _protocols(service):
        raise ApiError("UnknownOperationException", f"{service} does not speak {wire}", 404)
    prefix = str(model.metadata.get("targetPrefix", ""))
    if wire == "json":
        target = HeadersDict(headers).get("x-amz-target", "")
        given, _, name = target.partition(".")
    else:
        given, _, name = path.removeprefix(_RPC_PREFIX).partition("/operation/")
    if method != "POST" or given != prefix or not name:
        raise ApiError("UnknownOperationException", f"no operation for {method} {path}", 404)
    try:
        operation = model.operation_model(name)
    except OperationNotFoundError:
        raise ApiError("UnknownOperationException", f"no operation {name!r}", 404) from None
    params: dict[str, Any] = {}
    shape = operation.input_shape
    if shape is not None:
        if wire == "json":
            refuse_unreadable_body(service, body)
        parser = JSONParser() if wire == "json" else RpcV2CBORParser()
        try:
            parsed: dict[str, Any] = parser.parse(
                {"status_code": 200, "headers": HeadersDict(headers), "body": body or _empty(wire)},
                shape,
            )
        except Exception as exc:  # botocore's parsers raise several kinds for bad bytes
            raise ApiError(VALIDATION_ERROR[service], f"request body is unreadable: {exc}") from exc
        parsed.pop("ResponseMetadata", None)
        params = parsed
        validate_params(service, shape, params)
    return Call(service=service, operation=operation.name, params=params, region=region)


def encode_result(
    service: str, wire: Wire, operation: str, result: Mapping[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a successful answer in the protocol of the request."""
    if wire == "json":
        return json.dumps(result).encode(), {"content-type": _json_type(service)}
    shape = service_model(service).operation_model(operation).output_shape
    body = bytearray()
    if shape is not None:
        _CborWriter().write(body, dict(result), shape)
    return bytes(body), _cbor_headers()


def encode_error(service: str, wire: Wire, error: ApiError) -> tuple[bytes, dict[str, str]]:
    """An error answer: its code as ``__type`` (and the header the REST protocols use)."""
    fields = {"__type": error.code, "message": error.message}
    if wire == "json":
        headers = {"content-type": _json_type(service), "x-amzn-ErrorType": error.code}
        return json.dumps(fields).encode(), headers
    body = bytearray()
    _CborWriter().write(body, fields, _ERROR_SHAPE)
    return bytes(body), _cbor_headers()


class _CborWriter(RpcV2CBORSerializer):
    """botocore's CBOR serializer, writing a value of any shape (an answer, not a request)."""

    def write(self, out: bytearray, value: Mapping[str, Any], shape: StructureShape) -> None:
        # botocore writes requests with this method; an answer is the same kind of value.
        cast(Any, self)._serialize_data_item(out, value, shape)


_ERROR_SHAPE = StructureShape(
    "SandboxError",
    {"type": "structure", "members": {"__type": {"shape": "S"}, "message": {"shape": "S"}}},
    ShapeResolver(cast(Any, {"S": {"type": "string"}})),
)


def _protocols(service: str) -> list[str]:
    metadata = service_model(service).metadata
    return list(metadata.get("protocols") or [metadata.get("protocol", "")])


def _json_type(service: str) -> str:
    version = service_model(service).metadata.get("jsonVersion", "1.1")
    return f"application/x-amz-json-{version}"


def _cbor_headers() -> dict[str, str]:
    return {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


def _empty(wire: Wire) -> bytes:
    return b"{}" if wire == "json" else b"\xa0"  # an empty map in CBOR
