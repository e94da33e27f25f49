"""The sandbox's business numbers as the bridge's ``eum_phone_numbers``, read from a file.

The emulated WhatsApp learns a number when a raw Meta webhook body arrives for it; the bridge
(in the replay's process or in worker processes) must then send from it. The emulator writes its
``{Meta phone number id: End User Messaging id}`` map to a file whenever it grows, and the
bridge's map reads that file again whenever it changed: no bridge is rebuilt, and production's
settings keep their fixed map.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path


def write_numbers(path: Path, numbers: Mapping[str, str]) -> None:
    """Replace the file at once, so a reader never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(dict(numbers), sort_keys=True), encoding="utf-8")
    os.replace(partial, path)


class NumberFile(Mapping[str, str]):
    """A read-only map that follows the file: read again when its size or time changed."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._numbers: dict[str, str] = {}

    def _current(self) -> dict[str, str]:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            return {}
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                loaded = json.loads(self._path.read_text(encoding="utf-8"))
                self._numbers = {str(k): str(v) for k, v in loaded.items()}
                self._stamp = stamp
            return self._numbers

    def __getitem__(self, meta_id: str) -> str:
        return self._current()[meta_id]

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._current()))

    def __len__(self) -> int:
        return len(self._current())

    def __repr__(self) -> str:
        return f"NumberFile({self._path.name}: {self._current()!r})"
