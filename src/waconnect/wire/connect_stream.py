"""Amazon Connect chat streaming notifications: the ``Message`` JSON plus its SNS attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waconnect.domain.connect import (
    AttachmentStatus,
    ConnectAttachment,
    ConnectEvent,
    EventType,
    ParticipantRole,
    Visibility,
)
from waconnect.wire._reader import ROOT, Node
from waconnect.wire.sns import build_http_envelope, dumps

SOURCE = "connect"


def is_connect_message(doc: Mapping[str, Any]) -> bool:
    return "ContactId" in doc and ("ParticipantRole" in doc or "Type" in doc)


def parse_connect_notification(
    message: Mapping[str, Any], attributes: Mapping[str, str], *, path: str = ROOT
) -> ConnectEvent:
    return parse_connect_node(Node(message, path, SOURCE), attributes)


def parse_connect_node(node: Node, attributes: Mapping[str, str]) -> ConnectEvent:
    role = node.opt_str("ParticipantRole") or attributes.get("ParticipantRole", "")
    visibility = attributes.get("MessageVisibility", "")
    return ConnectEvent(
        event_id=node.req_str("Id"),
        type=EventType.parse(node.req_str("Type")),
        content_type=node.opt_str("ContentType") or attributes.get("ContentType", ""),
        contact_id=node.req_str("ContactId"),
        initial_contact_id=node.opt_str("InitialContactId")
        or attributes.get("InitialContactId", ""),
        # Connect leaves the role out of some system events (chat.ended); that is no error.
        role=ParticipantRole.parse(role) if role else ParticipantRole.UNKNOWN,
        content=node.opt_str("Content"),
        participant_id=node.opt_str("ParticipantId"),
        display_name=node.opt_str("DisplayName"),
        absolute_time=node.opt_str("AbsoluteTime"),
        attachments=tuple(_attachment(a) for a in node.list_of("Attachments")),
        visibility=Visibility.parse(visibility) if visibility else Visibility.ALL,
        instance_id=attributes.get("InstanceId", ""),
        raw=dict(node.mapping()),
    )


def _attachment(node: Node) -> ConnectAttachment:
    return ConnectAttachment(
        attachment_id=node.req_str("AttachmentId"),
        name=node.opt_str("AttachmentName"),
        content_type=node.opt_str("ContentType"),
        status=AttachmentStatus.parse(node.req_str("Status")),
    )


# -- building (the sandbox's Connect emulator streams exactly this) ----------------------------


def build_connect_message(event: ConnectEvent) -> dict[str, Any]:
    """The ``Message`` object Connect publishes for ``event``; absent fields are left out."""
    message: dict[str, Any] = {
        "AbsoluteTime": event.absolute_time,
        "Content": event.content,
        "ContentType": event.content_type,
        "Id": event.event_id,
        "Type": event.type.value,
        "ParticipantId": event.participant_id,
        "DisplayName": event.display_name,
        "ParticipantRole": "" if event.role is ParticipantRole.UNKNOWN else event.role.value,
        "InitialContactId": event.initial_contact_id,
        "ContactId": event.contact_id,
    }
    if event.attachments:
        message["Attachments"] = [
            {
                "AttachmentId": a.attachment_id,
                "AttachmentName": a.name,
                "ContentType": a.content_type,
                "Status": a.status.value,
            }
            for a in event.attachments
        ]
    return {k: v for k, v in message.items() if v not in ("", None)}


def connect_attributes(event: ConnectEvent, *, account_id: str) -> dict[str, str]:
    """The SNS message attributes Connect sets on a streaming notification."""
    attributes = {
        "InitialContactId": event.initial_contact_id,
        "ContactId": event.contact_id,
        "ParticipantRole": "" if event.role is ParticipantRole.UNKNOWN else event.role.value,
        "InstanceId": event.instance_id,
        "AccountId": account_id,
        "Type": event.type.value,
        "ContentType": event.content_type,
        "MessageVisibility": event.visibility.value,
    }
    return {k: v for k, v in attributes.items() if v}


def build_connect_envelope(
    event: ConnectEvent,
    *,
    topic_arn: str,
    account_id: str,
    message_id: str,
    timestamp: str,
    signature: str = "",
) -> dict[str, Any]:
    """The SNS HTTP envelope that delivers ``event`` from Connect's streaming topic."""
    return build_http_envelope(
        dumps(build_connect_message(event)),
        connect_attributes(event, account_id=account_id),
        topic_arn=topic_arn,
        message_id=message_id,
        timestamp=timestamp,
        signature=signature,
    )
