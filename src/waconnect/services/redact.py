"""Identifiers as they may appear in logs: enough to correlate, never a full phone number.

The one place that decides how an id is hidden, for every logger (the command line's, the
Lambda functions' Powertools Logger) and for ``explain``'s report.

A phone number or customer id shows its last four characters. A wamid does not: its tail is
base64 padding (often ``"AA=="``), the same for many messages, and its body embeds the
customer's phone number. It shows a short, stable hash instead, the same in every process and
run, so one message can be followed through the logs of several workers. Never shortened: a
wamid's prefix is the number.

``redact_text`` is the net under all of it: whatever a log line says, a wamid in it is hashed
and a pre-signed URL's signature, credential and session token are cut out.
"""

from __future__ import annotations

import hashlib
import re

WAMID_PREFIX = "wamid."
WAMID_TAG_LENGTH = 10

_WAMID_IN_TEXT = re.compile(r"wamid\.[A-Za-z0-9+/=_\-]+")
_SIGNED_QUERY = re.compile(
    r"(?i)((?:X-Amz-(?:Signature|Security-Token|Credential)|Signature|AWSAccessKeyId)=)[^&\s\"'<>]+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9+/=_\-.]{8,}")


def mask(value: str) -> str:
    """A loggable form of an id: ``wamid#<hash>`` for a wamid, else its last four (``"…0123"``)."""
    if value.startswith(WAMID_PREFIX):
        return mask_wamid(value)
    if len(value) <= 4:
        return "…" if value else ""
    return "…" + value[-4:]


def mask_wamid(wamid: str) -> str:
    """``wamid#`` and the first hex digits of the wamid's SHA-256: stable, and reveals nothing."""
    if not wamid:
        return ""
    digest = hashlib.sha256(wamid.encode("utf-8", "replace")).hexdigest()
    return f"wamid#{digest[:WAMID_TAG_LENGTH]}"


def mask_phone(value: str) -> str:
    """A number for people to read: bullets, then the last four (``"•••••••0001"``)."""
    if not value:
        return ""
    return "•" * max(len(value) - 4, 0) + value[-4:]


def redact_text(text: str) -> str:
    """``text`` with every wamid hashed and every signed-URL secret and bearer token cut."""
    if "wamid." in text:
        text = _WAMID_IN_TEXT.sub(lambda match: mask_wamid(match.group(0)), text)
    if "=" in text:
        text = _SIGNED_QUERY.sub(r"\1…", text)
    return _BEARER.sub(r"\1…", text)
