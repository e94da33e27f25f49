"""The bridge's settings: one frozen object, read from the environment and an optional TOML file.

Every variable is ``WACONNECT_`` plus the field name in upper case (``WACONNECT_MEDIA_BUCKET``).
``WACONNECT_CONFIG`` names a TOML file whose top-level keys are the field names; the environment
wins over the file. Everything is validated at once: one ``ConfigurationError`` names every missing
or bad value. Nothing else in waconnect reads the environment, but ``log_settings`` (read by every
command before it knows whether it needs these). Each raw value is converted by
``settings_values``, then all of them are checked together by ``settings_checks``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from waconnect import log_settings
from waconnect.domain.text import CONNECT_TEXT_LIMIT
from waconnect.errors import ConfigurationError
from waconnect.media.policy import CONNECT_DEFAULT_EXTENSIONS, CONNECT_DEFAULT_MAX_BYTES
from waconnect.sandbox import defaults
from waconnect.services.feedback import QUEUED_TEXT
from waconnect.settings_checks import FIFO_QUEUES, STANDARD_QUEUES, check, check_urls
from waconnect.settings_values import CONVERTERS, as_str

# The log settings live apart (every command reads them first); they are settings all the same.
PREFIX = log_settings.PREFIX
LOG_LEVELS = log_settings.LOG_LEVELS
LOG_FORMATS = log_settings.LOG_FORMATS
LogSettings = log_settings.LogSettings

# Connect's documented defaults for chat attachments (one table: the media policy's).
DEFAULT_CONNECT_EXTENSIONS: tuple[str, ...] = tuple(sorted(CONNECT_DEFAULT_EXTENSIONS))
DEFAULT_CONNECT_MAX_BYTES = CONNECT_DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    region: str
    connect_instance_id: str
    contact_flow_id: str
    streaming_topic_arn: str
    media_bucket: str
    media_prefix: str = ""
    # A SQLite file path, or "dynamodb:<sessions table>,<ledger table>,<message log table>".
    state: str = "waconnect.sqlite3"
    # For every AWS service but S3 (the sandbox emulators); S3 has its own.
    endpoint_url: str = ""
    s3_endpoint_url: str = ""
    # Where DynamoDB and SQS answer, when not at AWS (the local Lambda harness: moto); DynamoDB
    # falls back to ``endpoint_url``.
    dynamodb_endpoint_url: str = ""
    sqs_endpoint_url: str = ""
    # The SQS FIFO queues between the Lambda functions (unused by the other shapes).
    inbound_queue_url: str = ""
    outbound_queue_url: str = ""
    # The standard queue of ``transcribed``: ``inbound`` posts each job's delayed check there.
    transcribed_queue_url: str = ""
    # A message that cannot be delivered yet (throttling, an outage, Connect's active-chat quota)
    # is tried again after a delay doubling from the base up to the maximum, until it is
    # ``retry_max_age_seconds`` old; then it is dead-lettered with its reason.
    retry_base_delay_seconds: int = 10
    retry_max_delay_seconds: int = 15 * 60
    retry_max_age_seconds: int = 24 * 3600
    # Each call to AWS: how long to wait for a connection and for an answer. botocore does not
    # retry on its own; the bridge tries a call that certainly did not take effect up to
    # ``retry_attempts`` times in all, then keeps the work for a later retry.
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    retry_attempts: int = 5
    # How long a worker holds a message it is delivering: a redelivery meanwhile is deferred;
    # after it, another worker takes over (a worker killed mid-message). Longer than the slowest
    # message, shorter than Connect's 5 minutes between starting a chat and connecting to it.
    lease_seconds: int = 90
    # Signed URLs are https only, except to 127.0.0.1 when this is on (the sandbox).
    allow_http_loopback: bool = False
    mark_read: bool = True
    file_reaction: str = "📎"  # empty: no reaction
    failure_reaction: str = "❌"  # empty: no reaction
    failure_text: bool = True  # tell the customer in words what could not be delivered
    # Told once per wait when a message waits for a free chat (Connect's active-chat quota is
    # full); empty: nothing is said.
    queued_text: str = QUEUED_TEXT
    # Keep a short excerpt of each message for 7 days, so replies and reactions quote it to the
    # agent; off: only message ids are kept (typing indicators still work).
    remember_snippets: bool = True
    chat_duration_minutes: int = 25 * 60
    # The longest text the bridge sends Connect in one message; longer texts are split on word
    # boundaries. Connect's model allows 16,384 bytes; 1,024 stays until checked on an instance.
    connect_text_max_chars: int = CONNECT_TEXT_LIMIT
    meta_api_version: str = "v20.0"
    connect_allowed_extensions: tuple[str, ...] = DEFAULT_CONNECT_EXTENSIONS
    connect_max_attachment_bytes: int = DEFAULT_CONNECT_MAX_BYTES
    transcription: str = "none"
    # The offline engine reads at most this much of a note (it runs at ~0.3x real time).
    transcribe_max_seconds: int = 120
    # The transcript is echoed to the customer as a reply quoting the voice note.
    transcript_echo: bool = True
    # A transcription job whose end was not announced (its event lost) is looked at this long
    # after it started, then after as long again (at most an hour apart). At most 900: on
    # Lambda it is the delay of the check's queue message.
    transcript_check_seconds: int = 300
    # Meta phone-number id -> language of that number's voice notes (else ``language``).
    transcribe_languages: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Two or more: Amazon Transcribe identifies each note's language among these instead.
    transcribe_language_options: tuple[str, ...] = ()
    # Stickers reach the agent as PNG images; off: they are not forwarded at all.
    stickers: bool = True
    # The longest recording converted for the agent; a longer one is cut there, and said so.
    max_audio_seconds: int = 3600
    language: str = "en-US"
    # Meta phone-number id -> End User Messaging id (``phone-number-id-<hex>`` or its ARN), for
    # business numbers whose events carry no End User Messaging id (Meta webhook bodies).
    eum_phone_numbers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build from ``WACONNECT_*`` variables (and the TOML file ``WACONNECT_CONFIG`` names)."""
        problems: list[str] = []
        raw: dict[str, Any] = {}
        config_path = environ.get(f"{PREFIX}CONFIG", "")
        if config_path:
            raw.update(_read_toml(config_path, problems))
        for f in fields(cls):
            value = environ.get(PREFIX + f.name.upper())
            if value is not None:
                raw[f.name] = value
        if "region" not in raw:
            # Lambda sets AWS_REGION; the SDKs read AWS_DEFAULT_REGION.
            region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
            if region:
                raw["region"] = region
        return _build(raw, problems, source="environment")

    @classmethod
    def for_sandbox(cls, *, endpoint_url: str, s3_endpoint_url: str, state_path: str) -> Settings:
        """Settings for the bridge wired to the local emulators with the sandbox's fixed ids."""
        return _build(
            {
                "region": defaults.REGION,
                "connect_instance_id": defaults.INSTANCE_ID,
                "contact_flow_id": defaults.CONTACT_FLOW_ID,
                "streaming_topic_arn": defaults.STREAMING_TOPIC_ARN,
                "media_bucket": defaults.MEDIA_BUCKET,
                "state": state_path,
                "endpoint_url": endpoint_url,
                "s3_endpoint_url": s3_endpoint_url,
                # Amazon Transcribe's adapter against the emulator (the offline engine behind it),
                # so every replay runs the production transcript path, events included.
                "transcription": "transcribe",
                "eum_phone_numbers": {defaults.META_PHONE_NUMBER_ID: defaults.AWS_PHONE_NUMBER_ID},
            },
            [],
            source="sandbox",
        )

    @staticmethod
    def queues_from_env(environ: Mapping[str, str]) -> QueueSettings:
        """Only what the dead-letter tool needs: region, SQS endpoint and the three queue URLs,
        checked as ``from_env`` checks them (``ConfigurationError`` names each bad one)."""
        region = (
            environ.get(f"{PREFIX}REGION")
            or environ.get("AWS_REGION")
            or environ.get("AWS_DEFAULT_REGION")
            or ""
        )
        urls = {
            name: environ.get(f"{PREFIX}{name.upper()}", "").strip()
            for name in ("sqs_endpoint_url", *FIFO_QUEUES, *STANDARD_QUEUES)
        }
        problems = check_urls(urls)
        if problems:
            raise ConfigurationError("invalid settings (environment): " + "; ".join(problems))
        return QueueSettings(region=region.strip(), **urls)

    @property
    def uses_dynamodb(self) -> bool:
        return self.state.startswith("dynamodb:")

    @property
    def sqlite_path(self) -> str:
        """The SQLite file holding sessions and the ledger; empty when state is in DynamoDB."""
        return "" if self.uses_dynamodb else self.state

    @property
    def dynamodb_tables(self) -> tuple[str, str]:
        """(sessions table, ledger table); empty names when state is in SQLite."""
        sessions, ledger, _ = _dynamodb_tables(self.state)
        return (sessions, ledger)

    @property
    def message_log_table(self) -> str:
        """The DynamoDB table of the message log; empty when state is in SQLite."""
        return _dynamodb_tables(self.state)[2]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSettings:
    region: str
    sqs_endpoint_url: str = ""
    inbound_queue_url: str = ""
    outbound_queue_url: str = ""
    # The standard queue of Transcribe's job state changes (and of the jobs' checks).
    transcribed_queue_url: str = ""


def _dynamodb_tables(state: str) -> tuple[str, str, str]:
    if not state.startswith("dynamodb:"):
        return ("", "", "")
    names = [name.strip() for name in state.removeprefix("dynamodb:").split(",")]
    names += [""] * (3 - len(names))
    return (names[0], names[1], names[2])


def _read_toml(path: str, problems: list[str]) -> dict[str, Any]:
    try:
        with Path(path).open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        problems.append(f"{PREFIX}CONFIG: cannot read {path}: {exc.strerror}")
        return {}
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{PREFIX}CONFIG: {path} is not valid TOML: {exc}")
        return {}
    known = {f.name for f in fields(Settings)}
    for key in sorted(set(data) - known):
        problems.append(f"{PREFIX}CONFIG: unknown key {key!r} in {path}")
    return {k: v for k, v in data.items() if k in known}


# ---- conversion (settings_values) and validation (settings_checks) -------------------------

_REQUIRED = ("region", "connect_instance_id", "contact_flow_id", "streaming_topic_arn")


def _build(raw: Mapping[str, Any], problems: list[str], *, source: str) -> Settings:
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in raw:
            continue
        convert: Callable[[Any], Any] = CONVERTERS.get(f.name, as_str)
        try:
            values[f.name] = convert(raw[f.name])
        except ValueError as exc:
            problems.append(f"{PREFIX}{f.name.upper()}: {exc}")
    for name in (*_REQUIRED, "media_bucket"):
        if not values.get(name):
            problems.append(f"{PREFIX}{name.upper()}: required")
    problems.extend(check(values))
    if problems:
        raise ConfigurationError(f"invalid settings ({source}): " + "; ".join(problems))
    return Settings(**values)
