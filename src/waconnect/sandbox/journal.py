"""The ordered record of every observable effect in the emulated cloud (docs/replay.md "Output")."""

from __future__ import annotations

import threading
from typing import Any

# docs/replay.md "Output": every effect line's keys, in this order.
EFFECT_KEY_ORDER = (
    "step",
    "step_label",
    "to",
    "kind",
    "customer",
    "contact_id",
    "text",
    "attachment",
    "content_type",
    "size",
    "sha256",
    "duration",
    "emoji",
    "reply_to",
    "reason",
)
# What the emulators record; replay adds `step` and `step_label`.
EFFECT_KEYS = frozenset(EFFECT_KEY_ORDER) - {"step", "step_label"}


class Journal:
    """A thread-safe, append-only list of effect dicts; ``seq`` is the number recorded so far."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._effects: list[dict[str, Any]] = []

    def record(self, *, to: str, kind: str, **fields: Any) -> int:
        """Append one effect (keys with value ``None`` are left out); returns its index."""
        unknown = set(fields) - EFFECT_KEYS
        if unknown:
            raise ValueError(f"not an effect key: {sorted(unknown)}")
        effect: dict[str, Any] = {"to": to, "kind": kind}
        effect.update({key: value for key, value in fields.items() if value is not None})
        with self._lock:
            self._effects.append(effect)
            return len(self._effects) - 1

    @property
    def seq(self) -> int:
        with self._lock:
            return len(self._effects)

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Copies of the effects recorded at index ``seq`` and after, in order."""
        with self._lock:
            return [dict(effect) for effect in self._effects[seq:]]
