"""A typed view of decoded JSON that knows where it is, so every failure names its path.

Parsers walk payloads through ``Node`` instead of indexing dicts: a missing key or a value of the
wrong type raises ``MalformedPayload(source, path, reason)`` at the field itself, with a path such
as ``Records[0].Sns.Message.whatsAppWebhookEntry.changes[0].value.messages[2].image.id``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from waconnect.domain.whatsapp import LATEST_TIMESTAMP, UNKNOWN_TIME
from waconnect.errors import MalformedPayload
from waconnect.wire._clean import may_hold_surrogates, scrub

ROOT = "$"

_JSON_TYPE_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def describe(value: object) -> str:
    """The JSON name of a value's type, for error messages that never quote the value itself."""
    for kind, name in _JSON_TYPE_NAMES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return key if path == ROOT else f"{path}.{key}"


@dataclass(frozen=True, slots=True)
class Node:
    """One value in a payload, with the payload's source and the value's path."""

    value: Any
    path: str = ROOT
    source: str = "payload"

    def fail(self, reason: str) -> NoReturn:
        raise MalformedPayload(self.source, self.path, reason)

    # -- shape -------------------------------------------------------------------------------

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            self.fail(f"expected an object, got {describe(self.value)}")
        return self.value

    def has(self, key: str) -> bool:
        return isinstance(self.value, Mapping) and self.value.get(key) is not None

    def child(self, key: str) -> Node:
        """A required member. A null one comes back as a node, so that reading it as a number
        (or a string, an object...) says "expected a number, got null", not that it is missing."""
        members = self.mapping()
        if key not in members:
            Node(None, join(self.path, key), self.source).fail("required field is missing")
        return Node(members[key], join(self.path, key), self.source)

    def get(self, key: str) -> Node | None:
        """An optional member; absent and null are the same."""
        value = self.mapping().get(key)
        if value is None:
            return None
        return Node(value, join(self.path, key), self.source)

    def items(self) -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(f"expected an array, got {describe(self.value)}")
        return [Node(v, join(self.path, i), self.source) for i, v in enumerate(self.value)]

    def list_of(self, key: str) -> list[Node]:
        """An optional array member: absent means empty."""
        node = self.get(key)
        return [] if node is None else node.items()

    # -- scalars -----------------------------------------------------------------------------

    def text(self) -> str:
        if not isinstance(self.value, str):
            self.fail(f"expected a string, got {describe(self.value)}")
        return self.value

    def number(self) -> float:
        """A finite number; numeric strings are accepted since Meta quotes some numbers."""
        value = self.value
        if isinstance(value, bool):
            self.fail("expected a number, got a boolean")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                self.fail("expected a number, got a non-numeric string")
        if not isinstance(value, int | float):
            self.fail(f"expected a number, got {describe(value)}")
        result = float(value)
        if not math.isfinite(result):
            self.fail("expected a finite number")
        return result

    def integer(self) -> int:
        value = self.value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                self.fail("expected an integer, got a non-numeric string")
        number = self.number()
        if not number.is_integer():
            self.fail("expected an integer, got a fraction")
        return int(number)

    def timestamp(self) -> int:
        """Unix seconds. A number before 1970, after year 9999, fractional or infinite reads as
        ``UNKNOWN_TIME``: a bug or a forgery at the sender, not a reason to lose the message.
        A value that is no number at all is malformed, as anywhere else."""
        value = self.value
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                self.fail("expected an integer, got a non-numeric string")
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"expected an integer, got {describe(value)}")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return UNKNOWN_TIME
        seconds = int(value)
        return seconds if 0 < seconds <= LATEST_TIMESTAMP else UNKNOWN_TIME

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"expected a boolean, got {describe(self.value)}")
        return self.value

    # -- members, shortest form --------------------------------------------------------------

    def req_str(self, key: str) -> str:
        return self.child(key).text()

    def opt_str(self, key: str, default: str = "") -> str:
        node = self.get(key)
        return default if node is None else node.text()

    def opt_bool(self, key: str, default: bool = False) -> bool:
        node = self.get(key)
        return default if node is None else node.boolean()

    # -- nested JSON -------------------------------------------------------------------------

    def decoded(self) -> Node:
        """This value, decoded when it is a JSON string (EUM and SNS nest JSON in strings)."""
        if isinstance(self.value, str | bytes | bytearray):
            return Node(decode_json(self.value, self.path, self.source), self.path, self.source)
        return self


def decode_json(raw: str | bytes | bytearray, path: str, source: str) -> Any:
    """Decoded JSON with every lone surrogate replaced (see ``_clean``)."""
    try:
        decoded = json.loads(raw)
        return scrub(decoded) if may_hold_surrogates(raw) else decoded
    except RecursionError as exc:
        # Valid JSON, but deeper than the decoder will go: no WhatsApp or Connect payload is.
        raise MalformedPayload(source, path, "JSON nested too deeply") from exc
    except ValueError as exc:
        # ValueError covers JSONDecodeError and UnicodeDecodeError; say where, not what.
        reason = f"not valid JSON ({type(exc).__name__})"
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise MalformedPayload(source, path, reason) from exc


def load(doc: Mapping[str, Any] | str | bytes, source: str) -> Node:
    """The root node of a document given as decoded JSON or as its text."""
    if isinstance(doc, str | bytes | bytearray):
        doc = decode_json(doc, ROOT, source)
    elif isinstance(doc, Mapping):
        # Decoded by someone else (a Lambda event): cleaned here all the same.
        try:
            doc = scrub(dict(doc))
        except RecursionError as exc:
            raise MalformedPayload(source, ROOT, "JSON nested too deeply") from exc
    node = Node(doc, ROOT, source)
    node.mapping()
    return node
