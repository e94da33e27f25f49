"""Which WhatsApp message a labelled scenario step stands for, both ways (``reply_to``)."""

from __future__ import annotations

import threading


class StepLabels:
    """Step label <-> wamid, safe for the threads of a ``concurrently`` group.

    A customer step (or raw WhatsApp payload) stands for the message it sent; an agent step (or
    raw Connect payload) for the first message the bridge sent on WhatsApp because of it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wamids: dict[str, tuple[str, str]] = {}  # step label -> (wamid, sender wa_id)
        self._labels: dict[str, str] = {}

    def name(self, label: str, wamid: str, sender: str, *, first: bool = False) -> None:
        """``label`` stands for ``wamid``; with ``first``, only if it stands for nothing yet."""
        with self._lock:
            if first:
                self._wamids.setdefault(label, (wamid, sender))
                self._labels.setdefault(wamid, label)
            else:
                self._wamids[label] = (wamid, sender)
                self._labels[wamid] = label

    def message(self, label: str) -> tuple[str, str] | None:
        """(wamid, sender wa_id) of the message ``label`` stands for, if it sent one."""
        with self._lock:
            return self._wamids.get(label)

    def label_of(self, wamid: str) -> str:
        """The label of the step that sent (or made the bridge send) this message, else ""."""
        with self._lock:
            return self._labels.get(wamid, "")
