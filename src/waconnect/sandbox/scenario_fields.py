"""Typed, checked access to a scenario step's fields; a malformed one raises :class:`BadField`."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox.file_types import guess_mime_type
from waconnect.sandbox.scenario_steps import AgentTarget, MediaFile

MAX_REPEAT = 100


class BadField(Exception):
    """A step is malformed; ``field`` is empty when the step as a whole is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason)


class Fields:
    """Typed access to a step's fields that remembers which ones were used."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.used: set[str] = {"label", "repeat", "retries"}

    def get(self, name: str, kind: type | tuple[type, ...], expected: str) -> Any:
        self.used.add(name)
        if name not in self.raw:
            raise BadField(name, "required")
        value = self.raw[name]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise BadField(name, f"must be {expected}, not a JSON {json_type(value)}")
        return value

    def optional_str(self, name: str) -> str:
        if name not in self.raw:
            self.used.add(name)
            return ""
        value: str = self.get(name, str, "a string")
        return value

    def text(self, name: str) -> str:
        value: str = self.get(name, str, "a string")
        if not value.strip():
            raise BadField(name, "must not be empty")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        value = self.get(name, (int, float), "a number")
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            raise BadField(name, f"must be between {low:g} and {high:g}")
        return number

    def repeat(self) -> int:
        if "repeat" not in self.raw:
            return 1
        value = self.raw["repeat"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadField("repeat", f"must be a whole number, not a JSON {json_type(value)}")
        if not 1 <= value <= MAX_REPEAT:
            raise BadField("repeat", f"must be between 1 and {MAX_REPEAT}")
        return value

    def retries(self) -> str:
        """When what the bridge kept is handed in again: as the step settles ("now"), or not
        until a later step settles ("later": its retry time has not come yet)."""
        value = self.raw.get("retries", "now")
        if value not in ("now", "later"):
            raise BadField("retries", 'must be "now" or "later"')
        return str(value)

    def file(self, name: str, base: Path) -> Path:
        relative = self.text(name)
        path = (base / relative).resolve()
        if not path.is_file():
            raise BadField(name, f"file not found: {relative}")
        return path

    def customer(self) -> Customer:
        self.used.update(("customer", "name"))
        if "customer" not in self.raw:
            raise BadField("customer", "required")
        customer = parse_customer(self.raw["customer"])
        if "name" in self.raw:
            name: str = self.get("name", str, "a string")
            customer = Customer(wa_id=customer.wa_id, user_id=customer.user_id, name=name)
        return customer

    def target(self) -> AgentTarget:
        self.used.update(("customer", "contact_id"))
        has_customer = "customer" in self.raw
        has_contact = "contact_id" in self.raw
        if has_customer == has_contact:
            raise BadField("customer", "give exactly one of 'customer' and 'contact_id'")
        if has_contact:
            return AgentTarget(contact_id=self.text("contact_id"))
        return AgentTarget(customer=parse_customer(self.raw["customer"]))

    def label_ref(self, name: str, labels: set[str]) -> str:
        ref = self.optional_str(name)
        if ref and ref not in labels:
            raise BadField(name, f"no earlier step is labelled {ref!r}")
        return ref

    def media(self, base: Path) -> tuple[MediaFile, ...]:
        self.used.add("media")
        if "media" not in self.raw:
            return ()
        media = self.get("media", dict, "an object mapping media ids to files")
        files = []
        for media_id, given in media.items():
            where = f"media.{media_id}"
            spec = {"path": given} if isinstance(given, str) else given
            if not isinstance(spec, dict):
                raise BadField(where, "must be a path, or an object with 'path' and 'mime_type'")
            unknown = sorted(set(spec) - {"path", "mime_type"})
            if unknown:
                raise BadField(where, f"unknown field {unknown[0]!r}")
            nested = Fields(spec)
            try:
                path = nested.file("path", base)
                mime_type = nested.optional_str("mime_type") or guess_mime_type(path)
            except BadField as bad:
                raise BadField(f"{where}.{bad.field}", bad.reason) from None
            files.append(MediaFile(path=path, mime_type=mime_type, media_id=media_id))
        return tuple(files)

    def whole(self, name: str, low: int, high: int, default: int | None = None) -> int:
        if name not in self.raw and default is not None:
            self.used.add(name)
            return default
        value: int = self.get(name, int, "a whole number")
        if not low <= value <= high:
            raise BadField(name, f"must be between {low} and {high}")
        return value

    def operation(self, name: str) -> str:
        # Only fault steps need the service models: loaded here, not when scenarios are read.
        from waconnect.sandbox.faults import EMULATED_SERVICES, services_of  # noqa: PLC0415

        operation = self.text(name)
        if not services_of(operation):
            raise BadField(
                name,
                f"{operation!r} is not an operation of the emulated services "
                f"({', '.join(EMULATED_SERVICES)}), such as 'SendWhatsAppMessage'",
            )
        return operation

    def done(self, action: str = "") -> None:
        unknown = sorted(set(self.raw) - self.used - {"action"})
        if unknown:
            suffix = f" for {action}" if action else ""
            raise BadField(unknown[0], f"unknown field{suffix}")


# A business-scoped user id: a country code, a dot, digits ("US.13491208655302741918").
_BSUID = re.compile(r"[A-Z]{2}\.[0-9A-Za-z]+")


def parse_customer(raw: Any) -> Customer:
    if isinstance(raw, str):
        if _BSUID.fullmatch(raw):
            return Customer(wa_id="", user_id=raw)
        # People write numbers as "+1 555-010-0001"; WhatsApp's wa_id is the digits alone.
        digits = re.sub(r"[\s().-]", "", raw).removeprefix("+")
        if not digits.isdigit():
            raise BadField(
                "customer",
                f"expected a phone number (wa_id) or a business-scoped user id, not {raw!r}",
            )
        return Customer(wa_id=digits)
    if not isinstance(raw, dict):
        raise BadField("customer", "must be a wa_id string or an object {wa_id, user_id, name}")
    unknown = sorted(set(raw) - {"wa_id", "user_id", "name"})
    if unknown:
        raise BadField(f"customer.{unknown[0]}", "unknown field")
    values = {}
    for key in ("wa_id", "user_id", "name"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise BadField(f"customer.{key}", f"must be a string, not a JSON {json_type(value)}")
        values[key] = value
    values["wa_id"] = re.sub(r"[\s().-]", "", values["wa_id"]).removeprefix("+")
    if values["wa_id"] and not values["wa_id"].isdigit():
        raise BadField("customer.wa_id", "a wa_id is digits only (no '+' or spaces)")
    if not values["wa_id"] and not values["user_id"]:
        raise BadField("customer", "needs a wa_id or a user_id")
    return Customer(**values)


def json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "boolean"
        case int() | float():
            return "number"
        case str():
            return "string"
        case list():
            return "list"
        case dict():
            return "object"
    return type(value).__name__
