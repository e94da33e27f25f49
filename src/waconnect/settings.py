"""The bridge's settings: one frozen object, read from the environment and an optional TOML file.

Every variable is ``WACONNECT_`` plus the field name in upper case (``WACONNECT_MEDIA_BUCKET``).
``WACONNECT_CONFIG`` names a TOML file whose top-level keys are the field names; the environment
wins over the file. Everything is validated at once: one ``ConfigurationError`` names every missing
or bad value. Nothing else in waconnect reads the environment, but ``log_settings`` (read by every
command before it knows whether it needs these).
"""

from __future__ import annotations

import re
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

# The log settings live apart (every command reads them first); they are settings all the same.
PREFIX = log_settings.PREFIX
LOG_LEVELS = log_settings.LOG_LEVELS
LOG_FORMATS = log_settings.LOG_FORMATS
LogSettings = log_settings.LogSettings

# Connect's documented defaults for chat attachments (one table: the media policy's).
DEFAULT_CONNECT_EXTENSIONS: tuple[str, ...] = tuple(sorted(CONNECT_DEFAULT_EXTENSIONS))
DEFAULT_CONNECT_MAX_BYTES = CONNECT_DEFAULT_MAX_BYTES
_MIB = 1024 * 1024
# "transcribe" is Amazon Transcribe (batch jobs, completed by a job-state-change event).
TRANSCRIPTION_ENGINES = frozenset({"none", "pocketsphinx", "transcribe"})


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
        """Only what the dead-letter tool needs: region, SQS endpoint and the two queue URLs."""
        region = (
            environ.get(f"{PREFIX}REGION")
            or environ.get("AWS_REGION")
            or environ.get("AWS_DEFAULT_REGION")
            or ""
        )
        return QueueSettings(
            region=region.strip(),
            sqs_endpoint_url=environ.get(f"{PREFIX}SQS_ENDPOINT_URL", "").strip(),
            inbound_queue_url=environ.get(f"{PREFIX}INBOUND_QUEUE_URL", "").strip(),
            outbound_queue_url=environ.get(f"{PREFIX}OUTBOUND_QUEUE_URL", "").strip(),
        )

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


# ---- conversion and validation -------------------------------------------------------------

_REQUIRED = ("region", "connect_instance_id", "contact_flow_id", "streaming_topic_arn")


def _build(raw: Mapping[str, Any], problems: list[str], *, source: str) -> Settings:
    values: dict[str, Any] = {}
    for f in fields(Settings):
        if f.name not in raw:
            continue
        convert: Callable[[Any], Any] = _CONVERTERS.get(f.name, _as_str)
        try:
            values[f.name] = convert(raw[f.name])
        except ValueError as exc:
            problems.append(f"{PREFIX}{f.name.upper()}: {exc}")
    for name in (*_REQUIRED, "media_bucket"):
        if not values.get(name):
            problems.append(f"{PREFIX}{name.upper()}: required")
    problems.extend(_check(values))
    if problems:
        raise ConfigurationError(f"invalid settings ({source}): " + "; ".join(problems))
    return Settings(**values)


def _check(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    minutes = values.get("chat_duration_minutes")
    if minutes is not None and not 60 <= minutes <= 10080:
        problems.append(f"{PREFIX}CHAT_DURATION_MINUTES: must be 60-10080, got {minutes}")
    chars = values.get("connect_text_max_chars")
    # 4,096 characters of up to 4 UTF-8 bytes each: never over the model's 16,384 bytes.
    if chars is not None and not 1 <= chars <= 4096:
        problems.append(f"{PREFIX}CONNECT_TEXT_MAX_CHARS: must be 1-4096, got {chars}")
    size = values.get("connect_max_attachment_bytes")
    if size is not None and not _MIB <= size <= 100 * _MIB:
        problems.append(
            f"{PREFIX}CONNECT_MAX_ATTACHMENT_BYTES: must be 1-100 MB in bytes, got {size}"
        )
    arn = values.get("streaming_topic_arn", "")
    if arn and (not arn.startswith("arn:") or arn.endswith(".fifo")):
        problems.append(
            f"{PREFIX}STREAMING_TOPIC_ARN: must be the ARN of a standard SNS topic, got {arn!r}"
        )
    state = values.get("state")
    if isinstance(state, str) and state.startswith("dynamodb:"):
        names = state.removeprefix("dynamodb:").split(",")
        if len(names) != 3 or not all(name.strip() for name in names):
            problems.append(
                f"{PREFIX}STATE: expected 'dynamodb:<sessions table>,<ledger table>,"
                f"<message log table>', got {state!r}"
            )
    elif state is not None and not state:
        problems.append(f"{PREFIX}STATE: empty (a SQLite path or dynamodb:<tables>)")
    engine = values.get("transcription")
    if engine is not None and engine not in TRANSCRIPTION_ENGINES:
        problems.append(
            f"{PREFIX}TRANSCRIPTION: must be one of {sorted(TRANSCRIPTION_ENGINES)}, got {engine!r}"
        )
    language = values.get("language", "en-US")
    if not _LANGUAGE.fullmatch(language):
        problems.append(
            f"{PREFIX}LANGUAGE: expected a language code like 'en-US', got {language!r}"
        )
    options = values.get("transcribe_language_options", ())
    if len(options) == 1:
        problems.append(
            f"{PREFIX}TRANSCRIBE_LANGUAGE_OPTIONS: name two or more languages to identify among "
            f"(one language is WACONNECT_LANGUAGE), got {options[0]!r}"
        )
    version = values.get("meta_api_version", "v20.0")
    if not (version.startswith("v") and version[1:].replace(".", "", 1).isdigit()):
        problems.append(f"{PREFIX}META_API_VERSION: expected like 'v20.0', got {version!r}")
    for name in ("inbound_queue_url", "outbound_queue_url"):
        url = values.get(name, "")
        if url and not (url.startswith(("http://", "https://")) and url.endswith(".fifo")):
            problems.append(f"{PREFIX}{name.upper()}: expected a FIFO queue's URL, got {url!r}")
    problems.extend(_check_retry(values))
    problems.extend(_check_timing(values))
    for name in ("endpoint_url", "s3_endpoint_url", "dynamodb_endpoint_url", "sqs_endpoint_url"):
        url = values.get(name, "")
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"{PREFIX}{name.upper()}: expected an http(s) URL, got {url!r}")
    return problems


# SQS keeps a message at most 14 days and hides it at most 12 hours at a time.
SQS_MAX_RETENTION_SECONDS = 14 * 24 * 3600
SQS_MAX_VISIBILITY_SECONDS = 12 * 3600


def _check_timing(values: Mapping[str, Any]) -> list[str]:
    """Timeouts, the attempts of one call, and the lease."""
    problems: list[str] = []
    for name in ("connect_timeout_seconds", "read_timeout_seconds"):
        value = values.get(name, 1.0)
        if not 0 < value <= 900:
            problems.append(
                f"{PREFIX}{name.upper()}: must be more than 0 and at most 900, got {value}"
            )
    attempts = values.get("retry_attempts", 5)
    if not 1 <= attempts <= 10:
        problems.append(f"{PREFIX}RETRY_ATTEMPTS: must be 1-10, got {attempts}")
    lease = values.get("lease_seconds", 90)
    if not 10 <= lease <= 280:
        problems.append(
            f"{PREFIX}LEASE_SECONDS: must be 10-280 (under Connect's 5 minutes to connect to a "
            f"new chat), got {lease}"
        )
    return problems


def _check_retry(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    base = values.get("retry_base_delay_seconds", 10)
    largest = values.get("retry_max_delay_seconds", 15 * 60)
    age = values.get("retry_max_age_seconds", 24 * 3600)
    if not 0 <= base <= SQS_MAX_VISIBILITY_SECONDS:
        problems.append(f"{PREFIX}RETRY_BASE_DELAY_SECONDS: must be 0-43200, got {base}")
    if not base <= largest <= SQS_MAX_VISIBILITY_SECONDS:
        problems.append(
            f"{PREFIX}RETRY_MAX_DELAY_SECONDS: must be between the base delay and 43200 "
            f"(SQS's 12 hours), got {largest}"
        )
    if not 1 <= age <= SQS_MAX_RETENTION_SECONDS:
        problems.append(
            f"{PREFIX}RETRY_MAX_AGE_SECONDS: must be 1-1209600 (SQS keeps a message 14 days), "
            f"got {age}"
        )
    return problems


def _as_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value.strip()


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"expected an integer, got {value!r}") from None


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise ValueError(f"expected a number, got {value!r}")


def _as_extensions(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    result: list[str] = []
    for item in items:
        text = str(item).strip().lower()
        if not text:
            continue
        ext = text if text.startswith(".") else f".{text}"
        if not ext[1:].isalnum():
            raise ValueError(f"not a file extension: {item!r}")
        result.append(ext)
    if not result:
        raise ValueError("at least one extension is needed")
    return tuple(dict.fromkeys(result))


def _as_text(value: Any) -> str:
    # Emoji settings keep their exact value: an empty string turns the feedback off.
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


# A BCP-47 code as Amazon Transcribe names languages: en-US, pt-BR, ckb-IQ.
_LANGUAGE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


def _as_language_map(value: Any) -> Mapping[str, str]:
    """``{meta id: language}`` from a TOML table or ``"metaid=pt-BR,..."``."""
    if isinstance(value, Mapping):
        pairs = [(str(k), str(v)) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for item in value.replace(";", ",").split(","):
            if not item.strip():
                continue
            meta_id, sep, language = item.partition("=")
            if not sep:
                raise ValueError(f"expected 'metaid=<language>', got {item.strip()!r}")
            pairs.append((meta_id, language))
    else:
        raise ValueError(f"expected a table or 'metaid=<language>,...', got {value!r}")
    result: dict[str, str] = {}
    for raw_meta, raw_language in pairs:
        meta_id, language = raw_meta.strip(), raw_language.strip()
        if not _META_PHONE_NUMBER_ID.fullmatch(meta_id):
            raise ValueError(f"not a Meta phone-number id: {meta_id!r}")
        if not _LANGUAGE.fullmatch(language):
            raise ValueError(f"{meta_id}: expected a language code like 'pt-BR', got {language!r}")
        result[meta_id] = language
    return MappingProxyType(result)


def _as_languages(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    result = [str(item).strip() for item in items if str(item).strip()]
    for language in result:
        if not _LANGUAGE.fullmatch(language):
            raise ValueError(f"expected language codes like 'en-US', got {language!r}")
    return tuple(dict.fromkeys(result))


_META_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")
_EUM_PHONE_NUMBER_ID = re.compile(
    r"phone-number-id-[0-9a-f]{1,64}"
    r"|arn:aws[a-z-]*:social-messaging:[a-z0-9-]+:[0-9]{12}:phone-number-id/[0-9a-f]{1,64}"
)


def _as_phone_number_map(value: Any) -> Mapping[str, str]:
    """``{meta id: eum id}`` from a TOML table or ``"metaid=phone-number-id-abc,..."``."""
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, str):
        pairs = []
        for item in value.replace(";", ",").split(","):
            if not item.strip():
                continue
            meta_id, sep, eum_id = item.partition("=")
            if not sep:
                raise ValueError(f"expected 'metaid=phone-number-id-<hex>', got {item.strip()!r}")
            pairs.append((meta_id, eum_id))
    else:
        raise ValueError(f"expected a table or 'metaid=phone-number-id-<hex>,...', got {value!r}")
    result: dict[str, str] = {}
    for raw_meta, raw_eum in pairs:
        meta_id = raw_meta.strip()
        eum_id = raw_eum.strip() if isinstance(raw_eum, str) else ""
        if not _META_PHONE_NUMBER_ID.fullmatch(meta_id):
            raise ValueError(f"not a Meta phone-number id: {meta_id!r}")
        if not _EUM_PHONE_NUMBER_ID.fullmatch(eum_id):
            raise ValueError(
                f"{meta_id}: expected 'phone-number-id-<hex>' or its ARN, got {raw_eum!r}"
            )
        if result.get(meta_id, eum_id) != eum_id:
            raise ValueError(f"{meta_id} is mapped twice")
        result[meta_id] = eum_id
    return MappingProxyType(result)


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "eum_phone_numbers": _as_phone_number_map,
    "transcribe_languages": _as_language_map,
    "transcribe_language_options": _as_languages,
    "allow_http_loopback": _as_bool,
    "mark_read": _as_bool,
    "transcript_echo": _as_bool,
    "stickers": _as_bool,
    "transcribe_max_seconds": _as_int,
    "max_audio_seconds": _as_int,
    "failure_text": _as_bool,
    "remember_snippets": _as_bool,
    "file_reaction": _as_text,
    "failure_reaction": _as_text,
    "queued_text": _as_text,
    "chat_duration_minutes": _as_int,
    "connect_text_max_chars": _as_int,
    "connect_max_attachment_bytes": _as_int,
    "retry_base_delay_seconds": _as_int,
    "retry_max_delay_seconds": _as_int,
    "retry_max_age_seconds": _as_int,
    "retry_attempts": _as_int,
    "lease_seconds": _as_int,
    "connect_timeout_seconds": _as_float,
    "read_timeout_seconds": _as_float,
    "connect_allowed_extensions": _as_extensions,
}
