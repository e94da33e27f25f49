"""Attachment scans that take time: the final status is streamed once the sandbox clock says so."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from waconnect.sandbox.chats import Attachment, ChatState, Contact, Participant

logger = logging.getLogger(__name__)

# A real-time timer wakes a scan up; with a clock that does not tick it finds the scan not yet
# due and looks again this much later at the least (the clock's advance listener is what counts).
_MIN_RECHECK_SECONDS = 0.05


@dataclass(slots=True, kw_only=True)
class _Scan:
    contact: Contact
    attachment: Attachment
    participant: Participant
    status: str
    due: float
    visibility: str
    timer: threading.Timer | None = None


class PendingScans:
    """Scans in progress; ``run_due`` (on every clock jump, and by timer) finishes those due.

    A finished scan streams its ATTACHMENT item even when the chat ended meanwhile, as Connect
    may: the scan does not know about the chat.
    """

    def __init__(self, *, chats: ChatState) -> None:
        self._chats = chats
        self._lock = threading.Lock()
        self._scans: list[_Scan] = []
        self._closed = False

    def schedule(
        self,
        *,
        contact: Contact,
        attachment: Attachment,
        participant: Participant,
        status: str,
        seconds: float,
        visibility: str,
    ) -> None:
        scan = _Scan(
            contact=contact,
            attachment=attachment,
            participant=participant,
            status=status,
            due=self._chats.clock.now() + seconds,
            visibility=visibility,
        )
        if seconds <= 0:
            with self._chats.lock:
                self._finish(scan)
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("the cloud is stopped")
            self._scans.append(scan)
            self._arm(scan, seconds)

    def _arm(self, scan: _Scan, seconds: float) -> None:
        timer = threading.Timer(max(seconds, _MIN_RECHECK_SECONDS), self._wake, args=(scan,))
        timer.daemon = True
        scan.timer = timer
        timer.start()

    def _wake(self, scan: _Scan) -> None:
        self.run_due()
        with self._lock:
            if scan in self._scans and not self._closed:
                self._arm(scan, scan.due - self._chats.clock.now())

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._scans)

    def run_due(self) -> None:
        chats = self._chats
        # Under the chats' lock first, as everything publishing does, so two callers stream the
        # due scans once and in order of their due times.
        with chats.lock:
            now = chats.clock.now()
            with self._lock:
                due = sorted((s for s in self._scans if s.due <= now), key=lambda s: s.due)
                for scan in due:
                    self._scans.remove(scan)
                    if scan.timer is not None:
                        scan.timer.cancel()
            for scan in due:
                self._finish(scan)

    def _finish(self, scan: _Scan) -> None:
        attachment = scan.attachment
        attachment.status = scan.status
        self._chats.add_item(
            scan.contact,
            participant=scan.participant,
            kind="ATTACHMENT",
            content_type=attachment.content_type,
            attachments=[
                {
                    "AttachmentId": attachment.attachment_id,
                    "AttachmentName": attachment.name,
                    "ContentType": attachment.content_type,
                    "Status": scan.status,
                }
            ],
            visibility=scan.visibility,
        )
        logger.debug("scan of %s finished: %s", attachment.attachment_id, scan.status)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            scans, self._scans = self._scans, []
        for scan in scans:
            if scan.timer is not None:
                scan.timer.cancel()
