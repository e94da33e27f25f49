"""Replay scenarios (docs/replay.md): loaded and validated up front, step by step.

A malformed step does not stop the scenario: it becomes an :class:`Invalid` step whose reason
names the step and the field, which the runner prints as a ``system``/``rejected`` line.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import MalformedPayload
from waconnect.media.sniff import HEAD_BYTES, OGG_OPUS, sniff
from waconnect.sandbox import defaults
from waconnect.sandbox.file_types import guess_media_kind, guess_mime_type
from waconnect.sandbox.scenario_controls import (
    MAX_DELAY_SECONDS,
    MAX_FAULT_COUNT,
    BridgeCrash,
    ChatQuota,
    EventsLost,
    FaultClear,
    FaultDelay,
    FaultError,
    FaultSlow,
    FaultThrottle,
    ScannerReject,
)
from waconnect.sandbox.scenario_fields import BadField, Fields, json_type
from waconnect.sandbox.scenario_steps import (
    Action,
    AgentEnd,
    AgentFile,
    AgentText,
    ClockAdvance,
    Concurrently,
    ConnectEnd,
    CustomerFile,
    CustomerLocation,
    CustomerMessage,
    CustomerText,
    Invalid,
    MediaFile,
    Payload,
    Scenario,
    Step,
    TokenExpire,
)
from waconnect.wire._clean import scrub
from waconnect.wire._reader import ROOT, load
from waconnect.wire.meta_message import parse_message

VOICE_MIME_TYPE = "audio/ogg; codecs=opus"
MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")
AGENT_CONTENT_TYPES = (
    "text/plain",
    "text/markdown",
    # A quick reply, list picker… as Connect's flows and bots send them.
    "application/vnd.amazonaws.connect.message.interactive",
)


class ScenarioFileError(Exception):
    """The scenario file itself is unusable (unreadable, not JSON, not a list): exit code 2."""


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
            f"{path}: a scenario is a JSON list of steps, not a JSON {json_type(document)}"
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
    retries = "now"
    try:
        if not isinstance(raw, dict):
            raise BadField("", f"a step is a JSON object, not a JSON {json_type(raw)}")
        fields = Fields(raw)
        label = fields.optional_str("label")
        repeat = fields.repeat()
        retries = fields.retries()
        action = _parse_action(fields, index=index, where=where, base=base, labels=labels)
    except BadField as bad:
        at = f"{where}: field {bad.field!r}: " if bad.field else f"{where}: "
        action = Invalid(reason=at + bad.reason)
    if label:
        if label in labels:
            action = Invalid(reason=f"{where}: field 'label': {label!r} is already used")
        labels.add(label)
    return Step(
        index=index, where=where, action=action, label=label, repeat=repeat, retries=retries
    )


def _parse_action(
    fields: Fields, *, index: int, where: str, base: Path, labels: set[str]
) -> Action:
    raw = fields.raw
    if "concurrently" in raw:
        sub = fields.get("concurrently", list, "a list of steps")
        fields.done()
        if not sub:
            raise BadField("concurrently", "must hold at least one step")
        steps = tuple(
            _parse_step(
                s, index=index, where=f"{where}.concurrently[{i}]", base=base, labels=labels
            )
            for i, s in enumerate(sub)
        )
        invalid = [s.action.reason for s in steps if isinstance(s.action, Invalid)]
        if invalid:
            # All or nothing: running half of a concurrent group would prove nothing.
            raise BadField("", "; ".join(invalid))
        nested = [s.where for s in steps if isinstance(s.action, Concurrently)]
        if nested:
            raise BadField("concurrently", f"cannot nest 'concurrently' ({', '.join(nested)})")
        return Concurrently(steps=steps)
    if "action" in raw:
        name = fields.get("action", str, "a string")
        parser = _ACTIONS.get(name)
        if parser is None:
            raise BadField("action", f"unknown action {name!r} (known: {', '.join(_ACTIONS)})")
        action = parser(fields, base, labels)
        fields.done(name)
        return action
    if "payload" in raw:
        document = fields.get("payload", dict, "a JSON object (the raw payload)")
        media = fields.media(base)
        fields.done()
        return Payload(document=document, media=media)
    # A bare payload: every key but label/repeat/retries belongs to the document itself.
    document = {k: v for k, v in raw.items() if k not in ("label", "repeat", "retries")}
    if not document:
        raise BadField("", "empty step: give an 'action', a 'payload' or 'concurrently'")
    return Payload(document=document)


def _customer_text(fields: Fields, base: Path, labels: set[str]) -> Action:
    return CustomerText(
        customer=fields.customer(),
        text=fields.text("text"),
        business=fields.optional_str("business"),
        reply_to=fields.label_ref("reply_to", labels),
    )


def _customer_file(fields: Fields, base: Path, labels: set[str]) -> Action:
    customer = fields.customer()
    path = fields.file("path", base)
    mime_type = fields.optional_str("mime_type") or guess_mime_type(path)
    kind = fields.optional_str("kind") or guess_media_kind(mime_type)
    if kind not in MEDIA_KINDS:
        raise BadField("kind", f"must be one of {', '.join(MEDIA_KINDS)}, not {kind!r}")
    caption = fields.optional_str("caption")
    if caption and kind in ("audio", "sticker"):
        raise BadField("caption", f"WhatsApp has no caption on {kind} messages")
    filename = fields.optional_str("filename")
    if filename and kind != "document":
        raise BadField("filename", "only documents carry a file name")
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


def _customer_voice(fields: Fields, base: Path, labels: set[str]) -> Action:
    path = fields.file("path", base)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    # WhatsApp records voice notes as Ogg (Opus) only; anything else is a file, not a voice note.
    if sniff(head) not in (OGG_OPUS, "audio/ogg"):
        raise BadField(
            "path", "a voice note must be an Ogg/Opus file (use customer.file for others)"
        )
    return CustomerFile(
        customer=fields.customer(),
        file=MediaFile(path=path, mime_type=VOICE_MIME_TYPE),
        kind="audio",
        business=fields.optional_str("business"),
        voice=True,
    )


def _customer_location(fields: Fields, base: Path, labels: set[str]) -> Action:
    return CustomerLocation(
        customer=fields.customer(),
        latitude=fields.number("latitude", -90, 90),
        longitude=fields.number("longitude", -180, 180),
        business=fields.optional_str("business"),
        name=fields.optional_str("name"),
        address=fields.optional_str("address"),
    )


def _customer_message(fields: Fields, base: Path, labels: set[str]) -> Action:
    customer = fields.customer()
    message = fields.get("message", dict, "a Meta message object")
    if not isinstance(message.get("type"), str):
        raise BadField("message.type", "required: a string such as 'text' or 'reaction'")
    forbidden = sorted({"from", "id", "timestamp"} & set(message))
    if forbidden:
        raise BadField(f"message.{forbidden[0]}", "is set by the emulator; leave it out")
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
        raise BadField(at, reason) from None


def _agent_text(fields: Fields, base: Path, labels: set[str]) -> Action:
    target = fields.target()
    content_type = fields.optional_str("content_type") or "text/plain"
    if content_type not in AGENT_CONTENT_TYPES:
        raise BadField("content_type", f"must be one of {', '.join(AGENT_CONTENT_TYPES)}")
    return AgentText(target=target, text=fields.text("text"), content_type=content_type)


def _agent_file(fields: Fields, base: Path, labels: set[str]) -> Action:
    target = fields.target()
    path = fields.file("path", base)
    content_type = fields.optional_str("content_type") or guess_mime_type(path)
    return AgentFile(target=target, path=path, content_type=content_type)


def _agent_end(fields: Fields, base: Path, labels: set[str]) -> Action:
    return AgentEnd(target=fields.target())


def _token_expire(fields: Fields, base: Path, labels: set[str]) -> Action:
    return TokenExpire(target=fields.target())


def _connect_end(fields: Fields, base: Path, labels: set[str]) -> Action:
    return ConnectEnd(target=fields.target())


def _clock_advance(fields: Fields, base: Path, labels: set[str]) -> Action:
    # Ten days: beyond any chat's life; more would only hide a mistake in the scenario.
    return ClockAdvance(seconds=fields.number("seconds", 0, 864_000))


def _fault_delay(fields: Fields, base: Path, labels: set[str]) -> Action:
    return FaultDelay(
        operation=fields.operation("operation"),
        seconds=fields.number("seconds", 0.001, MAX_DELAY_SECONDS),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _fault_throttle(fields: Fields, base: Path, labels: set[str]) -> Action:
    return FaultThrottle(
        operation=fields.operation("operation"),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _fault_error(fields: Fields, base: Path, labels: set[str]) -> Action:
    return FaultError(
        operation=fields.operation("operation"),
        status=fields.whole("status", 500, 599, default=500),
        count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1),
    )


def _fault_slow(fields: Fields, base: Path, labels: set[str]) -> Action:
    return FaultSlow(
        operation=fields.operation("operation"),
        seconds=fields.number("seconds", 0.001, MAX_DELAY_SECONDS),
    )


def _fault_clear(fields: Fields, base: Path, labels: set[str]) -> Action:
    return FaultClear()


def _scanner_reject(fields: Fields, base: Path, labels: set[str]) -> Action:
    return ScannerReject(count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1))


def _events_lost(fields: Fields, base: Path, labels: set[str]) -> Action:
    return EventsLost(count=fields.whole("count", 1, MAX_FAULT_COUNT, default=1))


def _bridge_crash(fields: Fields, base: Path, labels: set[str]) -> Action:
    return BridgeCrash(
        operation=fields.operation("at"), nth=fields.whole("nth", 1, MAX_FAULT_COUNT, default=1)
    )


def _connect_quota(fields: Fields, base: Path, labels: set[str]) -> Action:
    return ChatQuota(active_chats=fields.whole("active_chats", 0, 100_000))


_ACTIONS: Mapping[str, Callable[[Fields, Path, set[str]], Action]] = {
    "customer.text": _customer_text,
    "customer.file": _customer_file,
    "customer.voice": _customer_voice,
    "customer.location": _customer_location,
    "customer.message": _customer_message,
    "agent.text": _agent_text,
    "agent.file": _agent_file,
    "agent.end": _agent_end,
    "token.expire": _token_expire,
    "connect.end": _connect_end,
    "clock.advance": _clock_advance,
    "fault.delay": _fault_delay,
    "fault.throttle": _fault_throttle,
    "fault.error": _fault_error,
    "fault.slow": _fault_slow,
    "fault.clear": _fault_clear,
    "scanner.reject": _scanner_reject,
    "events.lose": _events_lost,
    "bridge.crash": _bridge_crash,
    "connect.quota": _connect_quota,
}
