"""What untrusted text loses at the edge, before any store, emulator or terminal sees it.

- A lone UTF-16 surrogate (``"\\ud800"`` is valid JSON) cannot be encoded as UTF-8: it would
  fail a SQLite write, an HTTP body or a ``print`` far from where it came in. Each becomes
  U+FFFD, the replacement character, in every string and key of a decoded document.
- A display name loses control characters and the bidi controls that can reorder what an agent
  reads around it (U+202A-U+202E, U+2066-U+2069, and the direction marks), and is kept to the
  256 characters a Connect participant name allows.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from waconnect.domain.text import shorten

REPLACEMENT = "\ufffd"
DISPLAY_NAME_LIMIT = 256

_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape that may decode to a surrogate; without one, text input needs no walk.
_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\[uU][dD][89a-fA-F]")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def may_hold_surrogates(raw: str | bytes | bytearray) -> bool:
    """Whether JSON text could decode to a lone surrogate (a cheap test before a full walk)."""
    if isinstance(raw, str):
        return _SURROGATE_ESCAPE.search(raw) is not None or _SURROGATE.search(raw) is not None
    return _SURROGATE_ESCAPE_BYTES.search(raw) is not None


def replace_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def scrub(value: Any) -> Any:
    """A decoded JSON value whose strings (keys included) hold no lone surrogate.

    Containers are copied. ``RecursionError`` propagates for a value nested deeper than the
    interpreter allows; the reader reports it as malformed.
    """
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, dict):
        return {_key(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def _key(key: Any) -> Any:
    return replace_surrogates(key) if isinstance(key, str) else key


def clean_display_name(name: str) -> str:
    """A profile name fit to show an agent: one line, no control or bidi characters."""
    kept = []
    for ch in replace_surrogates(name):
        if ch in _BIDI_CONTROLS:
            continue
        if unicodedata.category(ch) == "Cc":
            # Tabs and newlines separate words; NUL, ESC and the like are dropped outright.
            if ch.isspace():
                kept.append(" ")
            continue
        kept.append(ch)
    flat = " ".join("".join(kept).split())
    return shorten(flat, DISPLAY_NAME_LIMIT) if len(flat) > DISPLAY_NAME_LIMIT else flat
