"""Replay scenarios (docs/replay.md): loaded and validated up front, step by step.

A malformed step does not stop the scenario: it becomes an :class:`Invalid` step whose reason
names the step and the field, which the runner prints as a ``system``/``rejected`` line.
"""

from __future__ import annotations

import copy
import json
import math
import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import MalformedPayload
from waconnect.media.sniff import HEAD_BYTES, OGG_OPUS, sniff
from waconnect.sandbox import defaults
from waconnect.sandbox.scenario_controls import (
    MAX_DELAY_SECONDS,
    MAX_FAULT_COUNT,
    BridgeCrash,
    ChatQuota,
    Control,
    FaultDelay,
    FaultError,
    FaultThrottle,
)
from waconnect.wire._clean import scrub
from waconnect.wire._reader import ROOT, load
from waconnect.wire.meta_message import parse_message

MAX_REPEAT = 100
VOICE_MIME_TYPE = "audio/ogg; codecs=opus"
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
AGENT_CONTENT_TYPES = (
    "text/plain",
    "text/markdown",
    # A quick reply, list picker… as Connect's flows and bots send them.
    "application/vnd.amazonaws.connect.message.interactive",
)
# Fixed here rather than left to ``mimetypes`` alone: its table depends on the machine, and a
# replay must read the same on every machine.
_MIME_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jfif": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".rtf": "application/rtf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".amr": "audio/amr",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".3gp": "video/3gpp",
    ".vcf": "text/vcard",
}


class ScenarioFileError(Exception):
    """The scenario file itself is unusable (unreadable, not JSON, not a list): exit code 2."""


def guess_mime_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _MIME_BY_SUFFIX:
        return _MIME_BY_SUFFIX[suffix]
    guessed, _ = mimetypes.guess_type(path.name, strict=True)
    return guessed or "application/octet-stream"


def guess_media_kind(mime_type: str) -> str:
    """The WhatsApp message type a customer's file travels as."""
    base = mime_type.split(";", 1)[0].strip().lower()
    if base == "image/webp":
        return "sticker"
    top = base.split("/", 1)[0]
    if top in ("image", "video", "audio"):
        return top
    return "document"


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaFile:
    """A file the WhatsApp emulator serves under ``media_id`` (empty: the emulator mints one)."""

    path: Path
    mime_type: str
    media_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentTarget:
    """The chat an agent action acts on: the customer's current chat, or a given contact."""

    customer: Customer | None = None
    contact_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Payload:
    document: dict[str, Any]
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerText:
    customer: Customer
    text: str
    business: str = ""
    reply_to: str = ""  # a step label


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerFile:
    customer: Customer
    file: MediaFile
    kind: str
    business: str = ""
    caption: str = ""
    filename: str = ""
    voice: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerLocation:
    customer: Customer
    latitude: float
    longitude: float
    business: str = ""
    name: str = ""
    address: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerMessage:
    customer: Customer
    message: dict[str, Any]
    business: str = ""
    media: tuple[MediaFile, ...] = ()
    reply_to: str = ""  # a step label


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentText:
    target: AgentTarget
    text: str
    content_type: str = "text/plain"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFile:
    target: AgentTarget
    path: Path
    content_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentEnd:
    target: AgentTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenExpire:
    target: AgentTarget


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockAdvance:
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Concurrently:
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Invalid:
    reason: str


CustomerAction = CustomerText | CustomerFile | CustomerLocation | CustomerMessage
Action = (
    Payload
    | CustomerAction
    | AgentText
    | AgentFile
    | AgentEnd
    | TokenExpire
    | ClockAdvance
    | Control
    | Concurrently
    | Invalid
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    index: int  # position in the scenario (a concurrent sub-step carries its parent's)
    where: str  # "step 3" or "step 3.concurrently[1]", for reasons
    action: Action
    label: str = ""
    repeat: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    path: Path
    steps: tuple[Step, ...]

    @property
    def crashes(self) -> bool:
        """Whether a step crashes the bridge (which then runs in a child process)."""
        return any(
            isinstance(step.action, BridgeCrash)
            or (
                isinstance(step.action, Concurrently)
                and any(isinstance(sub.action, BridgeCrash) for sub in step.action.steps)
            )
            for step in self.steps
        )


class _Bad(Exception):
    """A step is malformed; ``field`` is empty when the step as a whole is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(reason)


def load_scenario(path: Path) -> Scenario:
    """Read and validate ``path``; raises :class:`ScenarioFileError` when it is not a list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read the scenario: {exc}") from exc
    try:
        # Lone surrogates become U+FFFD here, as at the bridge's own edge: no emulator, store
        # or printed line ever sees one.
        document = scrub(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ScenarioFileError(
            f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise ScenarioFileError(f"{path}: JSON nested too deeply to be a scenario") from exc
    if not isinstance(document, list):
        raise ScenarioFileError(
            f"{path}: a scenario is a JSON list of steps, not a JSON {_json_type(document)}"
        )
    return parse_steps(document, base=path.parent, path=path)


def parse_steps(document: list[Any], *, base: Path, path: Path | None = None) -> Scenario:
    """Validate every step of an already decoded scenario; paths resolve against ``base``."""
    labels: set[str] = set()
    steps = tuple(
        _parse_step(raw, index=i, where=f"step {i}", base=base, labels=labels)
        for i, raw in enumerate(document)
    )
    return Scenario(path=path or base, steps=steps)


def _parse_step(raw: Any, *, index: int, where: str, base: Path, labels: set[str]) -> Step:
    label = ""
    repeat = 1
    try:
        if not isinstance(raw, dict):
            raise _Bad("", f"a step is a JSON object, not a JSON {_json_type(raw)}")
        fields = _Fields(raw)
        label = fields.optional_str("label")
        repeat = fields.repeat()
        action = _parse_action(fields, index=index, where=where, base=base, labels=labels)
    except _Bad as bad:
        at = f"{where}: field {bad.field!r}: " if bad.field else f"{where}: "
        action = Invalid(reason=at + bad.reason)
    if label:
        if label in labels:
            action = Invalid(reason=f"{where}: field 'label': {label!r} is already used")
        labels.add(label)
    return Step(index=index, where=where, action=action, label=label, repeat=repeat)


def _parse_action(
    fields: _Fields, *, index: int, where: str, base: Path, labels: set[str]
) -> Action:
    raw = fields.raw
    if "concurrently" in raw:
        sub = fields.get("concurrently", list, "a list of steps")
        fields.done()
        if not sub:
            raise _Bad("concurrently", "must hold at least one step")
        steps = tuple(
            _parse_step(
                s, index=index, where=f"{where}.concurrently[{i}]", base=base, labels=labels
            )
            for i, s in enumerate(sub)
        )
        invalid = [s.action.reason for s in steps if isinstance(s.action, Invalid)]
        if invalid:
            # All or nothing: running half of a concurrent group would prove nothing.
            raise _Bad("", "; ".join(invalid))
        nested = [s.where for s in steps if isinstance(s.action, Concurrently)]
        if nested:
            raise _Bad("concurrently", f"cannot nest 'concurrently' ({', '.join(nested)})")
        return Concurrently(steps=steps)
    if "action" in raw:
        name = fields.get("action", str, "a string")
        parser = _ACTIONS.get(name)
        if parser is None:
            raise _Bad("action", f"unknown action {name!r} (known: {', '.join(_ACTIONS)})")
        action = parser(fields, base, labels)
        fields.done(name)
        return action
    if "payload" in raw:
        document = fields.get("payload", dict, "a JSON object (the raw payload)")
        media = fields.media(base)
        fields.done()
        return Payload(document=document, media=media)
    # A bare payload: every key but label/repeat belongs to the document itself.
    document = {k: v for k, v in raw.items() if k not in ("label", "repeat")}
    if not document:
        raise _Bad("", "empty step: give an 'action', a 'payload' or 'concurrently'")
    return Payload(document=document)


class _Fields:
    """Typed access to a step's fields that remembers which ones were used."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.used: set[str] = {"label", "repeat"}

    def get(self, name: str, kind: type | tuple[type, ...], expected: str) -> Any:
        self.used.add(name)
        if name not in self.raw:
            raise _Bad(name, "required")
        value = self.raw[name]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _Bad(name, f"must be {expected}, not a JSON {_json_type(value)}")
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
            raise _Bad(name, "must not be empty")
        return value

    def number(self, name: str, low: float, high: float) -> float:
        value = self.get(name, (int, float), "a number")
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            raise _Bad(name, f"must be between {low:g} and {high:g}")
        return number

    def repeat(self) -> int:
        if "repeat" not in self.raw:
            return 1
        value = self.raw["repeat"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Bad("repeat", f"must be a whole number, not a JSON {_json_type(value)}")
        if not 1 <= value <= MAX_REPEAT:
            raise _Bad("repeat", f"must be between 1 and {MAX_REPEAT}")
        return value

    def file(self, name: str, base: Path) -> Path:
        relative = self.text(name)
        path = (base / relative).resolve()
        if not path.is_file():
            raise _Bad(name, f"file not found: {relative}")
        return path

    def customer(self) -> Customer:
        self.used.update(("customer", "name"))
        if "customer" not in self.raw:
            raise _Bad("customer", "required")
        customer = _parse_customer(self.raw["customer"])
        if "name" in self.raw:
            name: str = self.get("name", str, "a string")
            customer = Customer(wa_id=customer.wa_id, user_id=customer.user_id, name=name)
        return customer

    def target(self) -> AgentTarget:
        self.used.update(("customer", "contact_id"))
        has_customer = "customer" in self.raw
        has_contact = "contact_id" in self.raw
        if has_customer == has_contact:
            raise _Bad("customer", "give exactly one of 'customer' and 'contact_id'")
        if has_contact:
            return AgentTarget(contact_id=self.text("contact_id"))
        return AgentTarget(customer=_parse_customer(self.raw["customer"]))

    def label_ref(self, name: str, labels: set[str]) -> str:
        ref = self.optional_str(name)
        if ref and ref not in labels:
            raise _Bad(name, f"no earlier step is labelled {ref!r}")
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
                raise _Bad(where, "must be a path, or an object with 'path' and 'mime_type'")
            unknown = sorted(set(spec) - {"path", "mime_type"})
            if unknown:
                raise _Bad(where, f"unknown field {unknown[0]!r}")
            nested = _Fields(spec)
            try:
                path = nested.file("path", base)
                mime_type = nested.optional_str("mime_type") or guess_mime_type(path)
            except _Bad as bad:
                raise _Bad(f"{where}.{bad.field}", bad.reason) from None
            files.append(MediaFile(path=path, mime_type=mime_type, media_id=media_id))
        return tuple(files)

    def whole(self, name: str, low: int, high: int, default: int | None = None) -> int:
        if name not in self.raw and default is not None:
            self.used.add(name)
            return default
        value: int = self.get(name, int, "a whole number")
        if not low <= value <= high:
            raise _Bad(name, f"must be between {low} and {high}")
        return value

    def operation(self, name: str) -> str:
        # Only fault steps need the service models: loaded here, not when scenarios are read.
        from waconnect.sandbox.faults import EMULATED_SERVICES, services_of  # noqa: PLC0415

        operation = self.text(name)
        if not services_of(operation):
            raise _Bad(
                name,
                f"{operation!r} is not an operation of the emulated services "
                f"({', '.join(EMULATED_SERVICES)}), such as 'SendWhatsAppMessage'",
            )
        return operation

    def done(self, action: str = "") -> None:
        unknown = sorted(set(self.raw) - self.used - {"action"})
        if unknown:
            suffix = f" for {action}" if action else ""
            raise _Bad(unknown[0], f"unknown field{suffix}")


# A business-scoped user id: a country code, a dot, digits ("US.13491208655302741918").
_BSUID = re.compile(r"[A-Z]{2}\.[0-9A-Za-z]+")


def _parse_customer(raw: Any) -> Customer:
    if isinstance(raw, str):
        if _BSUID.fullmatch(raw):
            return Customer(wa_id="", user_id=raw)
        # People write numbers as "+1 555-010-0001"; WhatsApp's wa_id is the digits alone.
        digits = re.sub(r"[\s().-]", "", raw).removeprefix("+")
        if not digits.isdigit():
            raise _Bad(
                "customer",
                f"expected a phone number (wa_id) or a business-scoped user id, not {raw!r}",
            )
        return Customer(wa_id=digits)
    if not isinstance(raw, dict):
        raise _Bad("customer", "must be a wa_id string or an object {wa_id, user_id, name}")
    unknown = sorted(set(raw) - {"wa_id", "user_id", "name"})
    if unknown:
        raise _Bad(f"customer.{unknown[0]}", "unknown field")
    values = {}
    for key in ("wa_id", "user_id", "name"):
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise _Bad(f"customer.{key}", f"must be a string, not a JSON {_json_type(value)}")
        values[key] = value
    values["wa_id"] = re.sub(r"[\s().-]", "", values["wa_id"]).removeprefix("+")
    if values["wa_id"] and not values["wa_id"].isdigit():
        raise _Bad("customer.wa_id", "a wa_id is digits only (no '+' or spaces)")
    if not values["wa_id"] and not values["user_id"]:
        raise _Bad("customer", "needs a wa_id or a user_id")
    return Customer(**values)


def _customer_text(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return CustomerText(
        customer=fields.customer(),
        text=fields.text("text"),
        business=fields.optional_str("business"),
        reply_to=fields.label_ref("reply_to", labels),
    )


def _customer_file(fields: _Fields, base: Path, labels: set[str]) -> Action:
    customer = fields.customer()
    path = fields.file("path", base)
    mime_type = fields.optional_str("mime_type") or guess_mime_type(path)
    kind = fields.optional_str("kind") or guess_media_kind(mime_type)
    if kind not in MEDIA_KINDS:
        raise _Bad("kind", f"must be one of {', '.join(MEDIA_KINDS)}, not {kind!r}")
    caption = fields.optional_str("caption")
    if caption and kind in ("audio", "sticker"):
        raise _Bad("caption", f"WhatsApp has no caption on {kind} messages")
    filename = fields.optional_str("filename")
    if filename and kind != "document":
        raise _Bad("filename", "only documents carry a file name")
    if kind == "document" and not filename:
        filename = path.name
    return CustomerFile(
        customer=customer,
        file=MediaFile(path=path, mime_type=mime_type),
        kind=kind,
        business=fields.optional_str("business"),
        caption=caption,
        filename=filename,
    )


def _customer_voice(fields: _Fields, base: Path, labels: set[str]) -> Action:
    path = fields.file("path", base)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    # WhatsApp records voice notes as Ogg (Opus) only; anything else is a file, not a voice note.
    if sniff(head) not in (OGG_OPUS, "audio/ogg"):
        raise _Bad("path", "a voice note must be an Ogg/Opus file (use customer.file for others)")
    return CustomerFile(
        customer=fields.customer(),
        file=MediaFile(path=path, mime_type=VOICE_MIME_TYPE),
        kind="audio",
        business=fields.optional_str("business"),
        voice=True,
    )


def _customer_location(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return CustomerLocation(
        customer=fields.customer(),
        latitude=fields.number("latitude", -90, 90),
        longitude=fields.number("longitude", -180, 180),
        business=fields.optional_str("business"),
        name=fields.optional_str("name"),
        address=fields.optional_str("address"),
    )


def _customer_message(fields: _Fields, base: Path, labels: set[str]) -> Action:
    customer = fields.customer()
    message = fields.get("message", dict, "a Meta message object")
    if not isinstance(message.get("type"), str):
        raise _Bad("message.type", "required: a string such as 'text' or 'reaction'")
    forbidden = sorted({"from", "id", "timestamp"} & set(message))
    if forbidden:
        raise _Bad(f"message.{forbidden[0]}", "is set by the emulator; leave it out")
    reply_to = fields.label_ref("reply_to", labels)
    _check_message(message, customer, replying=bool(reply_to))
    return CustomerMessage(
        customer=customer,
        message=message,
        business=fields.optional_str("business"),
        media=fields.media(base),
        reply_to=reply_to,
    )


def _check_message(message: dict[str, Any], customer: Customer, *, replying: bool) -> None:
    """Refuse up front a message the bridge cannot read, naming the field as the parser does.

    The message is completed as the emulator completes it and read by the bridge's own parser
    of one message: strict, where a whole webhook body would show a broken message to the agent.
    """
    probe = copy.deepcopy(message)
    reaction = probe.get("reaction")
    if replying and probe.get("type") == "reaction" and isinstance(reaction, dict):
        # The runner fills it from the labelled step; any wamid stands in for it here.
        reaction.setdefault("message_id", "wamid.scenario-check")
    probe.update({"from": customer.wa_id, "id": "wamid.scenario-check", "timestamp": "0"})
    if customer.user_id:
        probe["from_user_id"] = customer.user_id
    business = BusinessNumber(
        meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
        display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
        waba_id=defaults.WABA_ID,
    )
    try:
        parse_message(load(probe, "meta"), business=business, customer=customer)
    except MalformedPayload as exc:
        reason = "required" if exc.reason == "required field is missing" else exc.reason
        at = "message" if exc.path in ("", ROOT) else f"message.{exc.path}"
        raise _Bad(at, reason) from None


def _agent_text(fields: _Fields, base: Path, labels: set[str]) -> Action:
    target = fields.target()
    content_type = fields.optional_str("content_type") or "text/plain"
    if content_type not in AGENT_CONTENT_TYPES:
        raise _Bad("content_type", f"must be one of {', '.join(AGENT_CONTENT_TYPES)}")
    return AgentText(target=target, text=fields.text("text"), content_type=content_type)


def _agent_file(fields: _Fields, base: Path, labels: set[str]) -> Action:
    target = fields.target()
    path = fields.file("path", base)
    content_type = fields.optional_str("content_type") or guess_mime_type(path)
    return AgentFile(target=target, path=path, content_type=content_type)


def _agent_end(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return AgentEnd(target=fields.target())


def _token_expire(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return TokenExpire(target=fields.target())


def _clock_advance(fields: _Fields, base: Path, labels: set[str]) -> Action:
    # Ten days: beyond any chat's life; more would only hide a mistake in the scenario.
    return ClockAdvance(seconds=fields.number("seconds", 0, 864_000))


def _fault_delay(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return FaultDelay(
        operation=fields.operation("operation"),
        seconds=fields.number("seconds", 0.001, MAX_DELAY_SECONDS),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _fault_throttle(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return FaultThrottle(
        operation=fields.operation("operation"),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _fault_error(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return FaultError(
        operation=fields.operation("operation"),
        status=fields.whole("status", 500, 599, default=500),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _bridge_crash(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return BridgeCrash(
        operation=fields.operation("at"), nth=fields.whole("nth", 1, MAX_FAULT_COUNT, default=1)
    )


def _connect_quota(fields: _Fields, base: Path, labels: set[str]) -> Action:
    return ChatQuota(active_chats=fields.whole("active_chats", 0, 100_000))


_ACTIONS: Mapping[str, Callable[[_Fields, Path, set[str]], Action]] = {
    "customer.text": _customer_text,
    "customer.file": _customer_file,
    "customer.voice": _customer_voice,
    "customer.location": _customer_location,
    "customer.message": _customer_message,
    "agent.text": _agent_text,
    "agent.file": _agent_file,
    "agent.end": _agent_end,
    "token.expire": _token_expire,
    "clock.advance": _clock_advance,
    "fault.delay": _fault_delay,
    "fault.throttle": _fault_throttle,
    "fault.error": _fault_error,
    "bridge.crash": _bridge_crash,
    "connect.quota": _connect_quota,
}


def _json_type(value: Any) -> str:
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
