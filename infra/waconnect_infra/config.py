"""The stack's configuration, read from CDK context (``cdk.json`` or ``-c key=value``).

Every key is optional except the Connect instance, its contact flow and the WhatsApp numbers; a
bad or missing value stops the synth with one error that names all of them, before any resource
is made. Values given with ``-c`` arrive as strings, values in ``cdk.json`` may be JSON numbers,
booleans or lists: both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from waconnect.settings import LOG_LEVELS
from waconnect.settings_values import LANGUAGE, as_phone_number_map
from waconnect_infra.sizing import RetryBudget

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EUM_ID = re.compile(r"phone-number-id-([0-9a-f]{1,64})")
_WABA_ID = re.compile(r"waba-[0-9a-zA-Z]{1,110}")
_PREFIX = re.compile(r"([A-Za-z0-9!_.*'()-]+/)+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TRANSCRIPTION_ENGINES = ("none", "transcribe")
TRANSCRIBED_HANDLER = "transcribed"


class ConfigError(ValueError):
    """One or more context values are missing or bad; the message names each of them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSizing:
    memory_mb: int
    timeout_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StackConfig:
    connect_instance_id: str
    contact_flow_id: str
    # Meta phone-number id -> End User Messaging id (phone-number-id-<hex>).
    phone_numbers: Mapping[str, str]
    language: str = "en-US"
    transcription: str = "none"
    media_prefix: str = "media/"
    media_expiry_days: int = 30
    # Records of the ledger and message log carry their own expiry; this is the log retention.
    log_retention_days: int = 30
    log_level: str = "INFO"
    inbound_max_concurrency: int = 2
    outbound_max_concurrency: int = 2
    batch_size: int = 10
    max_age_hours: int = 24
    # The handlers' backoff for records that cannot be delivered yet (WACONNECT_RETRY_*).
    retry_base_delay_seconds: int = 10
    retry_max_delay_seconds: int = 15 * 60
    oldest_message_alarm_minutes: int = 30
    alarm_email: str = ""
    # Wire the WhatsApp Business Account's event destination to the bridge's topic (replaces
    # Connect's native WhatsApp channel for that account): only when asked for explicitly.
    wire_event_destination: bool = False
    waba_id: str = ""
    # Extra settings of the bridge, passed through as WACONNECT_<NAME> (e.g. connect limits).
    bridge_settings: Mapping[str, str] = field(default_factory=dict)

    inbound: FunctionSizing = FunctionSizing(memory_mb=1024, timeout_seconds=180)
    outbound: FunctionSizing = FunctionSizing(memory_mb=1024, timeout_seconds=120)
    transcribed: FunctionSizing = FunctionSizing(memory_mb=256, timeout_seconds=60)
    ingest: FunctionSizing = FunctionSizing(memory_mb=256, timeout_seconds=30)

    @property
    def eum_phone_number_suffixes(self) -> tuple[str, ...]:
        """The hex part of each End User Messaging phone-number id (the suffix of its ARN)."""
        suffixes = []
        for eum_id in self.phone_numbers.values():
            match = _EUM_ID.fullmatch(eum_id)
            if match:
                suffixes.append(match.group(1))
        return tuple(dict.fromkeys(suffixes))

    def retry_budget(self, sizing: FunctionSizing) -> RetryBudget:
        return RetryBudget(
            function_timeout_seconds=sizing.timeout_seconds,
            base_delay_seconds=self.retry_base_delay_seconds,
            max_delay_seconds=self.retry_max_delay_seconds,
            max_age_seconds=self.max_age_hours * 3600,
        )


_BRIDGE_PASSTHROUGH = (
    "connect_allowed_extensions",
    "connect_max_attachment_bytes",
    "chat_duration_minutes",
    "mark_read",
    "remember_snippets",
    "failure_text",
    "file_reaction",
    "failure_reaction",
    "transcribe_languages",
    "transcribe_language_options",
    "transcript_echo",
    "transcript_check_seconds",
    "connect_text_max_chars",
)


def config_from_context(get: Callable[[str], Any]) -> StackConfig:
    """Read the stack's configuration through ``get`` (``node.try_get_context``)."""
    problems: list[str] = []
    values: dict[str, Any] = {}

    def read(key: str, convert: Callable[[Any], Any], *, required: bool = False) -> None:
        raw = get(key)
        if raw is None or raw == "":
            if required:
                problems.append(f"{key}: required")
            return
        try:
            values[key] = convert(raw)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")

    read("connect_instance_id", _matching(_UUID, "a Connect instance id (a UUID)"), required=True)
    read("contact_flow_id", _matching(_UUID, "a contact flow id (a UUID)"), required=True)
    read("phone_numbers", _phone_numbers, required=True)
    read("language", _matching(LANGUAGE, "a language code like en-US"))
    read("transcription", _one_of(TRANSCRIPTION_ENGINES))
    read("media_prefix", _matching(_PREFIX, "an S3 key prefix ending in '/', like media/"))
    read("media_expiry_days", _int_between(1, 3650))
    read("log_retention_days", _int_between(1, 3653))
    read("log_level", lambda v: _one_of(LOG_LEVELS)(str(v).upper()))
    # Event-source mappings accept a maximum concurrency of 2 to 1,000.
    read("inbound_max_concurrency", _int_between(2, 1000))
    read("outbound_max_concurrency", _int_between(2, 1000))
    # FIFO event sources take at most 10 records a batch.
    read("batch_size", _int_between(1, 10))
    read("max_age_hours", _int_between(1, 24 * 13))
    read("retry_base_delay_seconds", _int_between(1, 12 * 3600))
    read("retry_max_delay_seconds", _int_between(1, 12 * 3600))
    read("oldest_message_alarm_minutes", _int_between(1, 24 * 60 * 14))
    read("alarm_email", _matching(_EMAIL, "an e-mail address"))
    read("wire_event_destination", _bool)
    read("waba_id", _matching(_WABA_ID, "a linked WhatsApp Business Account id like waba-<id>"))
    bridge = {}
    for key in _BRIDGE_PASSTHROUGH:
        raw = get(key)
        if raw is not None:
            bridge[key] = _setting_text(raw)
    values["bridge_settings"] = bridge
    if values.get("wire_event_destination") and not values.get("waba_id"):
        problems.append("waba_id: required when wire_event_destination is true")
    if problems:
        raise ConfigError("invalid stack configuration: " + "; ".join(problems))
    config = StackConfig(**values)
    for sizing in (config.inbound, config.outbound):
        try:
            config.retry_budget(sizing)
        except ValueError as exc:
            problems.append(f"retry schedule: {exc}")
    if problems:
        raise ConfigError("invalid stack configuration: " + "; ".join(problems))
    return config


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip()
        if not pattern.fullmatch(text):
            raise ValueError(f"expected {what}, got {value!r}")
        return text

    return convert


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip()
        if text not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return text

    return convert


def _int_between(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"expected {low}-{high}, got {number}")
        return number

    return convert


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "on"}:
        return True
    if text in {"false", "no", "0", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _phone_numbers(value: Any) -> Mapping[str, str]:
    """``{meta id: eum id}`` as the bridge reads ``WACONNECT_EUM_PHONE_NUMBERS``, ids only: the
    stack scopes its permissions to each id's suffix, in its own region and account."""
    result = dict(as_phone_number_map(value))
    for meta_id, eum_id in result.items():
        if not _EUM_ID.fullmatch(eum_id):
            raise ValueError(f"{meta_id}: expected 'phone-number-id-<hex>', not an ARN: {eum_id!r}")
    if not result:
        raise ValueError("at least one 'metaid=phone-number-id-<hex>' is needed")
    return result


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def encode_phone_numbers(phone_numbers: Mapping[str, str]) -> str:
    """The ``WACONNECT_EUM_PHONE_NUMBERS`` form of the mapping."""
    return ",".join(f"{meta}={eum}" for meta, eum in phone_numbers.items())
