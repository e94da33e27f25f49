"""Identifiers as they may appear in logs: enough to correlate, never a full phone number."""

from __future__ import annotations


def mask(value: str) -> str:
    """The last four characters of an id or number, the rest hidden (``"…0123"``)."""
    if len(value) <= 4:
        return "…" if value else ""
    return "…" + value[-4:]
