"""An agent's actions in an emulated Connect chat: write, type, attach files, end, expire tokens."""

from __future__ import annotations

from pathlib import Path

from waconnect.sandbox import limits
from waconnect.sandbox.blobs import BlobStore
from waconnect.sandbox.chats import Attachment, ChatState, Contact
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.participant_api import attachment_problem, scan
from waconnect.sandbox.scans import PendingScans

_VISIBILITIES = frozenset({"AGENT", "CUSTOMER", "ALL"})
_SCAN_HEAD_BYTES = 4096


class AgentDesk:
    """The agent's side of every chat; items stream to the bridge as Connect streams them."""

    def __init__(
        self,
        *,
        chats: ChatState,
        scans: PendingScans,
        blobs: BlobStore,
        ids: IdSource,
        faults: Faults,
    ) -> None:
        self._chats = chats
        self._scans = scans
        self._blobs = blobs
        self._ids = ids
        self._faults = faults

    def _active(self, contact_id: str) -> Contact:
        contact = self._chats.contact(contact_id)
        if contact.ended:
            raise ValueError(f"chat {contact_id} has ended")
        return contact

    def sends_text(
        self, contact_id: str, text: str, content_type: str, *, visibility: str = "ALL"
    ) -> str:
        """The agent writes in the chat; returns the message id."""
        _check_visibility(visibility)
        chats = self._chats
        with chats.lock:
            contact = self._active(contact_id)
            item = chats.add_item(
                contact,
                participant=chats.agent_of(contact),
                kind="MESSAGE",
                content_type=content_type,
                content=text,
                visibility=visibility,
            )
            return str(item["Id"])

    def sends_typing(self, contact_id: str) -> None:
        chats = self._chats
        with chats.lock:
            contact = self._active(contact_id)
            chats.add_item(
                contact,
                participant=chats.agent_of(contact),
                kind="EVENT",
                content_type=limits.TYPING,
            )

    def sends_file(
        self,
        contact_id: str,
        data: bytes | Path,
        name: str,
        content_type: str,
        *,
        visibility: str = "ALL",
        scan_seconds: float = 0.0,
    ) -> str:
        """The agent attaches a file (its bytes, or a path copied without reading it whole):
        IN_PROGRESS, then APPROVED or REJECTED after a scan of ``scan_seconds``."""
        _check_visibility(visibility)
        if scan_seconds < 0:
            raise ValueError("scan_seconds cannot be negative")
        chats = self._chats
        blob = self._blobs.put_any(data, content_type=content_type)
        with blob.path.open("rb") as file:
            head = file.read(_SCAN_HEAD_BYTES)
        with chats.lock:
            contact = self._active(contact_id)
            agent = chats.agent_of(contact)
            attachment = Attachment(
                attachment_id=self._ids.uuid(),
                contact_id=contact_id,
                name=name,
                content_type=content_type,
                size=blob.size,
                participant_id=agent.participant_id,
                blob=blob,
                status="IN_PROGRESS",
            )
            chats.attachments[attachment.attachment_id] = attachment
            contact.attachments.append(attachment.attachment_id)
            chats.add_item(
                contact,
                participant=agent,
                kind="ATTACHMENT",
                content_type=content_type,
                attachments=[
                    {
                        "AttachmentId": attachment.attachment_id,
                        "AttachmentName": name,
                        "ContentType": content_type,
                        "Status": "IN_PROGRESS",
                    }
                ],
                visibility=visibility,
            )
            verdict = _agent_file_status(name, blob.size, head, content_type)
            self._scans.schedule(
                contact=contact,
                attachment=attachment,
                participant=agent,
                status=self._faults.scan_verdict(verdict),
                seconds=scan_seconds,
                visibility=visibility,
            )
            return attachment.attachment_id

    def end_chat(self, contact_id: str) -> None:
        """The agent ends the chat (a no-op if it already ended)."""
        chats = self._chats
        with chats.lock:
            contact = chats.contact(contact_id)
            if contact.active:
                chats.end(contact, leaving=chats.agent_of(contact))

    def connect_ends_chat(self, contact_id: str) -> None:
        """Connect ends the chat itself (a flow's disconnect, the chat's duration): no one
        leaves first, the chat just ends (a no-op if it already did)."""
        chats = self._chats
        with chats.lock:
            contact = chats.contact(contact_id)
            if contact.active:
                chats.end(contact, leaving=None)

    def expire_token(self, contact_id: str) -> None:
        """Refuse the chat's current connection tokens from now on; the chat goes on."""
        chats = self._chats
        with chats.lock:
            chats.revoke_connections(chats.contact(contact_id))


def _check_visibility(visibility: str) -> None:
    if visibility not in _VISIBILITIES:
        raise ValueError(f"visibility must be one of {sorted(_VISIBILITIES)}, not {visibility!r}")


def _agent_file_status(name: str, size: int, head: bytes, content_type: str) -> str:
    if attachment_problem(name, size, content_type) is not None:
        return "REJECTED"
    return scan(head)
