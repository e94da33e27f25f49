"""The ports both use cases work through, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from waconnect.ports import (
    Clock,
    ConnectChat,
    Converter,
    Ledger,
    MediaStore,
    MessageLog,
    SessionStore,
    WhatsApp,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BridgePorts:
    """Stores, the two remote sides, the converter and the clock the services share."""

    sessions: SessionStore
    ledger: Ledger
    media: MediaStore
    whatsapp: WhatsApp
    connect: ConnectChat
    converter: Converter
    clock: Clock
    message_log: MessageLog
