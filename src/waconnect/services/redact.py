"""Identifiers as they may appear in logs: enough to correlate, never a full phone number.

A phone number or customer id shows its last four characters. A wamid does not: its tail is
base64 padding (often ``"AA=="``), the same for many messages, and its body embeds the
customer's phone number. It shows a short, stable hash instead, the same in every process and
run, so one message can be followed through the logs of several workers.
"""

from __future__ import annotations

import hashlib

WAMID_PREFIX = "wamid."
WAMID_TAG_LENGTH = 10


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
    digest = hashlib.sha256(wamid.encode("utf-8")).hexdigest()
    return f"wamid#{digest[:WAMID_TAG_LENGTH]}"
