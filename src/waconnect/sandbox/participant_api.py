"""Emulated Amazon Connect Participant Service (token in ``X-Amz-Bearer``)."""

from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Mapping
from typing import Any

from waconnect.sandbox import limits
from waconnect.sandbox.chats import Attachment, ChatState, Contact, Participant
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.protocol import ApiError, Call, Handler, access_denied
from waconnect.sandbox.signing import UrlSigner
from waconnect.sandbox.topics import iso_millis

logger = logging.getLogger(__name__)

# The EICAR test string: a file carrying it is what a malware scan rejects.
_EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"
# type/subtype (RFC 6838 restricted names), then optional ;parameters.
_MIME = re.compile(
    r"(?P<base>[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})"
    r"(\s*;\s*[A-Za-z0-9!#$&^_.+-]+=(\"[^\"]*\"|[A-Za-z0-9!#$&^_.+-]+))*"
)
UPLOAD_PATH = "/connect-attachments/upload/"
DOWNLOAD_PATH = "/connect-attachments/download/"


def _invalid(message: str) -> ApiError:
    return ApiError("ValidationException", message, 400)


def scan(data_head: bytes) -> str:
    return "REJECTED" if _EICAR in data_head else "APPROVED"


def attachment_problem(name: str, size: int, content_type: str | None = None) -> str | None:
    """Why Connect's default attachment settings refuse a file, or None.

    With ``content_type``, it must also be a MIME type (case-insensitive, parameters allowed)
    that files with the name's extension are sent as.
    """
    extension = posixpath.splitext(name)[1].lower()
    if extension not in limits.CONNECT_ATTACHMENT_EXTENSIONS:
        return f"attachment extension {extension or '(none)'!r} is not allowed"
    if size > limits.CONNECT_ATTACHMENT_MAX_BYTES:
        return f"attachment size {size} is over the limit {limits.CONNECT_ATTACHMENT_MAX_BYTES}"
    if content_type is None:
        return None
    match = _MIME.fullmatch(content_type.strip())
    if match is None:
        return f"ContentType {content_type!r} is not a MIME type"
    expected = limits.CONNECT_ATTACHMENT_TYPES.get(extension, frozenset())
    if match["base"].lower() not in expected:
        return f"ContentType {content_type!r} does not match a {extension} file"
    return None


class ParticipantApi:
    def __init__(
        self, *, chats: ChatState, signer: UrlSigner, faults: Faults | None = None
    ) -> None:
        self._chats = chats
        self._signer = signer
        self._faults = faults or Faults()

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateParticipantConnection": self.create_participant_connection,
            "SendMessage": self.send_message,
            "SendEvent": self.send_event,
            "StartAttachmentUpload": self.start_attachment_upload,
            "CompleteAttachmentUpload": self.complete_attachment_upload,
            "GetAttachment": self.get_attachment,
            "DisconnectParticipant": self.disconnect_participant,
            "GetTranscript": self.get_transcript,
        }

    def _connected(self, call: Call) -> tuple[Contact, Participant]:
        contact, participant = self._chats.by_connection_token(call.params["ConnectionToken"])
        if not participant.connected:
            raise access_denied("The participant is not connected")
        return contact, participant

    def create_participant_connection(
        self, call: Call, _headers: Mapping[str, str]
    ) -> dict[str, Any]:
        chats = self._chats
        with chats.lock:
            contact = chats.by_participant_token(call.params["ParticipantToken"])
            participant = contact.customer_participant
            now = chats.clock.now()
            first = not participant.connections
            if first and now - contact.started > limits.CONNECT_FIRST_CONNECTION_SECONDS:
                raise access_denied("The participant token was not used within 5 minutes")
            types = call.params.get("Type", [])
            result: dict[str, Any] = {}
            if "CONNECTION_CREDENTIALS" in types:
                connection = chats.new_connection(contact, participant)
                result["ConnectionCredentials"] = {
                    "ConnectionToken": connection.token,
                    "Expiry": iso_millis(connection.expires),
                }
            if "WEBSOCKET" in types:
                result["Websocket"] = {
                    "Url": f"wss://sandbox.invalid/connect/{chats.ids.token(40)}",
                    "ConnectionExpiry": iso_millis(now + limits.CONNECTION_TOKEN_SECONDS),
                }
            chats.journal.record(
                to="system",
                kind="connection.created" if first else "connection.refreshed",
                customer=contact.customer,
                contact_id=contact.contact_id,
            )
            if call.params.get("ConnectParticipant") and not participant.connected:
                participant.connected = True
                chats.add_item(
                    contact,
                    participant=participant,
                    kind="EVENT",
                    content_type=limits.PARTICIPANT_JOINED,
                )
            return result

    def send_message(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        content_type, content = params["ContentType"], params["Content"]
        chats = self._chats
        with chats.lock:
            contact, participant = self._connected(call)
            if content_type not in contact.content_types:
                raise _invalid(f"content type {content_type!r} is not supported by this chat")
            size = len(content.encode("utf-8"))
            if size > limits.CHAT_CONTENT_MAX_BYTES:
                raise _invalid(
                    f"Content is {size} bytes, over the {limits.CHAT_CONTENT_MAX_BYTES} "
                    f"bytes allowed for {content_type}"
                )
            key = ("SendMessage", params.get("ClientToken", ""))
            if key in contact.idempotent:
                return dict(contact.idempotent[key])
            item = chats.add_item(
                contact,
                participant=participant,
                kind="MESSAGE",
                content_type=content_type,
                content=content,
            )
            chats.journal.record(
                to="agent",
                kind="message",
                contact_id=contact.contact_id,
                content_type=content_type,
                text=content,
            )
            result = {"Id": item["Id"], "AbsoluteTime": item["AbsoluteTime"]}
            contact.idempotent[key] = dict(result)
            return result

    def send_event(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        content_type = params["ContentType"]
        if content_type not in limits.CUSTOMER_EVENT_TYPES:
            raise _invalid(f"ContentType {content_type!r} is not an event a participant can send")
        chats = self._chats
        with chats.lock:
            contact, participant = chats.by_connection_token(params["ConnectionToken"])
            if content_type == limits.CONNECTION_ACKNOWLEDGED:
                participant.connected = True
            elif not participant.connected:
                raise access_denied("The participant is not connected")
            key = ("SendEvent", params.get("ClientToken", ""))
            if key in contact.idempotent:
                return dict(contact.idempotent[key])
            content = params.get("Content")
            if content_type in {limits.DELIVERED, limits.READ}:
                self._check_receipt(contact, content)
            item = chats.add_item(
                contact,
                participant=participant,
                kind="EVENT",
                content_type=content_type,
                content=content,
            )
            chats.journal.record(
                to="agent", kind="event", contact_id=contact.contact_id, content_type=content_type
            )
            result = {"Id": item["Id"], "AbsoluteTime": item["AbsoluteTime"]}
            contact.idempotent[key] = dict(result)
            return result

    @staticmethod
    def _check_receipt(contact: Contact, content: str | None) -> None:
        try:
            message_id = json.loads(content or "")["messageId"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _invalid('a receipt needs Content {"messageId": "..."}') from exc
        if not any(item["Id"] == message_id for item in contact.transcript):
            raise _invalid(f"messageId {message_id!r} is not a message of this chat")

    def start_attachment_upload(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        name, size = params["AttachmentName"], params["AttachmentSizeInBytes"]
        content_type = params["ContentType"]
        problem = attachment_problem(name, size, content_type)
        if problem is not None:
            raise _invalid(problem)
        chats = self._chats
        with chats.lock:
            contact, participant = self._connected(call)
            key = ("StartAttachmentUpload", params.get("ClientToken", ""))
            if key in contact.idempotent:
                return json.loads(json.dumps(contact.idempotent[key]))  # type: ignore[no-any-return]
            if len(contact.attachments) >= limits.CONNECT_ATTACHMENTS_PER_CHAT:
                raise ApiError("ServiceQuotaExceededException", "too many attachments", 402)
            attachment_id = chats.ids.uuid()
            headers = {
                "Content-Type": content_type,
                "x-amz-meta-contact_id": contact.contact_id,
                "x-amz-meta-initial_contact_id": contact.initial_contact_id,
                "x-amz-meta-account_id": chats.account_id,
                "x-amz-meta-attachment_id": attachment_id,
            }
            url = self._signer.sign(
                "PUT",
                UPLOAD_PATH + attachment_id,
                seconds=limits.UPLOAD_URL_SECONDS,
                headers=headers,
            )
            chats.attachments[attachment_id] = Attachment(
                attachment_id=attachment_id,
                contact_id=contact.contact_id,
                name=name,
                content_type=content_type,
                size=size,
                participant_id=participant.participant_id,
                upload_expires=self._signer.expiry(url),
                upload_headers=headers,
            )
            contact.attachments.append(attachment_id)
            result = {
                "AttachmentId": attachment_id,
                "UploadMetadata": {
                    "Url": url,
                    "UrlExpiry": iso_millis(self._signer.expiry(url)),
                    "HeadersToInclude": headers,
                },
            }
            contact.idempotent[key] = result
            return json.loads(json.dumps(result))  # type: ignore[no-any-return]

    def complete_attachment_upload(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        ids = params["AttachmentIds"]
        if len(ids) != 1:
            raise _invalid("AttachmentIds must hold exactly one id")
        chats = self._chats
        with chats.lock:
            contact, participant = self._connected(call)
            key = ("CompleteAttachmentUpload", params.get("ClientToken", ""))
            if key in contact.idempotent:
                return {}
            attachment = chats.attachments.get(ids[0])
            if attachment is None or attachment.contact_id != contact.contact_id:
                raise ApiError("ResourceNotFoundException", f"attachment {ids[0]} not found", 404)
            if attachment.blob is None:
                raise _invalid(f"attachment {ids[0]} was not uploaded")
            if attachment.status != "UPLOADED":
                raise ApiError("ConflictException", f"attachment {ids[0]} is already complete", 409)
            blob = attachment.blob
            with blob.path.open("rb") as file:
                attachment.status = self._faults.scan_verdict(scan(file.read(4096)))
            chats.add_item(
                contact,
                participant=participant,
                kind="ATTACHMENT",
                content_type=attachment.content_type,
                attachments=[_attachment_item(attachment)],
            )
            chats.journal.record(
                to="agent",
                kind="attachment",
                contact_id=contact.contact_id,
                attachment=attachment.name,
                content_type=attachment.content_type,
                size=blob.size,
                sha256=blob.sha256,
                duration=blob.duration,
                reason="rejected by the malware scan" if attachment.status == "REJECTED" else None,
            )
            contact.idempotent[key] = {}
            return {}

    def get_attachment(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        seconds = params.get("UrlExpiryInSeconds", 300)
        if not 5 <= seconds <= 300:
            raise _invalid("UrlExpiryInSeconds must be between 5 and 300")
        chats = self._chats
        with chats.lock:
            contact, _participant = self._connected(call)
            attachment = chats.attachments.get(params["AttachmentId"])
            if attachment is None or attachment.contact_id != contact.contact_id:
                raise ApiError("ResourceNotFoundException", "attachment not found", 404)
            if attachment.status != "APPROVED" or attachment.blob is None:
                raise _invalid(f"attachment is {attachment.status}, not APPROVED")
            url = self._signer.sign(
                "GET", DOWNLOAD_PATH + attachment.attachment_id, seconds=seconds, headers={}
            )
            return {
                "Url": url,
                "UrlExpiry": iso_millis(self._signer.expiry(url)),
                "AttachmentSizeInBytes": attachment.blob.size,
            }

    def disconnect_participant(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        chats = self._chats
        with chats.lock:
            contact, participant = chats.by_connection_token(call.params["ConnectionToken"])
            chats.end(contact, leaving=participant)
            return {}

    def get_transcript(self, call: Call, _headers: Mapping[str, str]) -> dict[str, Any]:
        params = call.params
        with self._chats.lock:
            contact, _participant = self._chats.by_connection_token(params["ConnectionToken"])
            wanted = params.get("ContactId", contact.contact_id)
            if wanted not in {contact.contact_id, contact.initial_contact_id}:
                raise access_denied("not a contact of this participant")
            items = [dict(item) for item in contact.transcript]
        forward = params.get("ScanDirection", "BACKWARD") == "FORWARD"
        position = params.get("StartPosition", {})
        if position.get("Id"):
            index = next((i for i, item in enumerate(items) if item["Id"] == position["Id"]), None)
            if index is None:
                raise _invalid("StartPosition.Id is not in this transcript")
            items = items[index:] if forward else items[: index + 1]
        elif position.get("AbsoluteTime"):
            stamp = position["AbsoluteTime"]
            items = [i for i in items if (i["AbsoluteTime"] >= stamp) == forward]
        if not forward:
            items.reverse()
        offset = int(params.get("NextToken") or 0)
        size = params.get("MaxResults", 15)
        page = items[offset : offset + size]
        if params.get("SortOrder", "ASCENDING") == "ASCENDING":
            page.sort(key=lambda item: (item["AbsoluteTime"], contact.transcript.index(item)))
        result: dict[str, Any] = {
            "InitialContactId": contact.initial_contact_id,
            "Transcript": page,
        }
        if offset + size < len(items):
            result["NextToken"] = str(offset + size)
        return result


def _attachment_item(attachment: Attachment) -> dict[str, str]:
    return {
        "AttachmentId": attachment.attachment_id,
        "AttachmentName": attachment.name,
        "ContentType": attachment.content_type,
        "Status": attachment.status,
    }
