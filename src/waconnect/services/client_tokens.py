"""ClientTokens for Connect: derived, never random, so a retry repeats the very same request.

A token names the WhatsApp message, what the request carries (``purpose``), which part of it,
and the chat generation — so the parts of one message never collide, and a reopened chat never
collides with the ended one.
"""

from __future__ import annotations

import hashlib

# Connect documents ClientToken as at most 500 characters.
MAX_CLIENT_TOKEN = 500

Purpose = str  # "chat" | "text" | "caption" | "file" | "notice" | "transcript" | "failure"


def client_token(wamid: str, purpose: Purpose, *, part: int = 0, generation: int = 1) -> str:
    """The ClientToken for ``part`` of ``purpose`` of message ``wamid`` in chat ``generation``."""
    token = f"wa:{purpose}:{part}:g{generation}:{wamid}"
    if len(token) <= MAX_CLIENT_TOKEN:
        return token
    digest = hashlib.sha256(wamid.encode("utf-8")).hexdigest()
    return f"wa:{purpose}:{part}:g{generation}:sha256:{digest}"
