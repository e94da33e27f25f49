"""How a setting's raw value (an environment variable's text, or a TOML value) becomes its typed
value: ``CONVERTERS`` by field name, text by default (``as_str``). A bad value raises
``ValueError`` saying what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


def as_str(value: Any) -> str:
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
LANGUAGE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")


_META_PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")


def _by_meta_id(value: Any, shape: str) -> list[tuple[str, Any]]:
    """The ``(meta id, value)`` pairs of a TOML table or of ``"metaid=<shape>,..."``."""
    if isinstance(value, Mapping):
        return [(str(k), v) for k, v in value.items()]
    if not isinstance(value, str):
        raise ValueError(f"expected a table or 'metaid={shape},...', got {value!r}")
    pairs = []
    for item in value.replace(";", ",").split(","):
        if not item.strip():
            continue
        meta_id, sep, other = item.partition("=")
        if not sep:
            raise ValueError(f"expected 'metaid={shape}', got {item.strip()!r}")
        pairs.append((meta_id, other))
    return pairs


def _as_language_map(value: Any) -> Mapping[str, str]:
    """``{meta id: language}`` from a TOML table or ``"metaid=pt-BR,..."``."""
    result: dict[str, str] = {}
    for raw_meta, raw_language in _by_meta_id(value, "<language>"):
        meta_id, language = raw_meta.strip(), str(raw_language).strip()
        if not _META_PHONE_NUMBER_ID.fullmatch(meta_id):
            raise ValueError(f"not a Meta phone-number id: {meta_id!r}")
        if not LANGUAGE.fullmatch(language):
            raise ValueError(f"{meta_id}: expected a language code like 'pt-BR', got {language!r}")
        result[meta_id] = language
    return MappingProxyType(result)


def _as_languages(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).replace(",", " ").split()
    result = [str(item).strip() for item in items if str(item).strip()]
    for language in result:
        if not LANGUAGE.fullmatch(language):
            raise ValueError(f"expected language codes like 'en-US', got {language!r}")
    return tuple(dict.fromkeys(result))


_EUM_PHONE_NUMBER_ID = re.compile(
    r"phone-number-id-[0-9a-f]{1,64}"
    r"|arn:aws[a-z-]*:social-messaging:[a-z0-9-]+:[0-9]{12}:phone-number-id/[0-9a-f]{1,64}"
)


def as_phone_number_map(value: Any) -> Mapping[str, str]:
    """``{meta id: eum id}`` from a TOML table or ``"metaid=phone-number-id-abc,..."`` (the
    stack's configuration reads its ``phone_numbers`` with it too)."""
    pairs = _by_meta_id(value, "phone-number-id-<hex>")
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


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "eum_phone_numbers": as_phone_number_map,
    "transcribe_languages": _as_language_map,
    "transcribe_language_options": _as_languages,
    "allow_http_loopback": _as_bool,
    "mark_read": _as_bool,
    "transcript_echo": _as_bool,
    "stickers": _as_bool,
    "transcribe_max_seconds": _as_int,
    "transcript_check_seconds": _as_int,
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
