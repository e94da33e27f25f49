"""The bridge's settings checked together once converted: ranges, shapes, and the limits of the
services they feed (Connect, SQS, Amazon Transcribe). Each problem names its variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from waconnect.log_settings import PREFIX
from waconnect.settings_values import LANGUAGE

_MIB = 1024 * 1024
# "transcribe" is Amazon Transcribe (batch jobs, completed by a job-state-change event).
TRANSCRIPTION_ENGINES = frozenset({"none", "pocketsphinx", "transcribe"})


def check(values: Mapping[str, Any]) -> list[str]:
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
    delay = values.get("transcript_check_seconds")
    # SQS delays a message at most 15 minutes.
    if delay is not None and not 1 <= delay <= 900:
        problems.append(f"{PREFIX}TRANSCRIPT_CHECK_SECONDS: must be 1-900, got {delay}")
    engine = values.get("transcription")
    if engine is not None and engine not in TRANSCRIPTION_ENGINES:
        problems.append(
            f"{PREFIX}TRANSCRIPTION: must be one of {sorted(TRANSCRIPTION_ENGINES)}, got {engine!r}"
        )
    language = values.get("language", "en-US")
    if not LANGUAGE.fullmatch(language):
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
    problems.extend(check_urls(values))
    problems.extend(_check_retry(values))
    problems.extend(_check_timing(values))
    return problems


# The queues of the Lambda shape: FIFO queues between the functions (a customer's messages in
# order), a standard one for Transcribe's job state changes (EventBridge's target).
FIFO_QUEUES = ("inbound_queue_url", "outbound_queue_url")
STANDARD_QUEUES = ("transcribed_queue_url",)


def check_urls(values: Mapping[str, Any]) -> list[str]:
    """Each endpoint given is an http(s) URL; each queue URL given is a queue's URL
    (``http(s)://host/<account>/<name>``) of its kind."""
    problems: list[str] = []
    for name in ("endpoint_url", "s3_endpoint_url", "dynamodb_endpoint_url", "sqs_endpoint_url"):
        url = values.get(name, "")
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"{PREFIX}{name.upper()}: expected an http(s) URL, got {url!r}")
    for name in (*FIFO_QUEUES, *STANDARD_QUEUES):
        url = values.get(name, "")
        if not url:
            continue
        fifo = name in FIFO_QUEUES
        if not _is_queue_url(url) or url.endswith(".fifo") != fifo:
            kind = "a FIFO queue's URL" if fifo else "a standard (not FIFO) queue's URL"
            shape = f"https://sqs.<region>.amazonaws.com/<account>/<name>{'.fifo' if fifo else ''}"
            problems.append(f"{PREFIX}{name.upper()}: expected {kind} ({shape}), got {url!r}")
    return problems


def _is_queue_url(url: str) -> bool:
    parts = urlsplit(url)
    path = [segment for segment in parts.path.split("/") if segment]
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and len(path) == 2
        and not (parts.query or parts.fragment or any(c.isspace() for c in url))
    )


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
