"""Amazon SNS envelopes: the HTTP(S) subscription form and the Lambda event form.

Both carry the published ``Message`` as a string and ``MessageAttributes`` as
``{Name: {Type, Value}}``. Subscription control messages are not notifications: they raise
``SnsSubscriptionMessage`` so an HTTPS endpoint can confirm (or note) the subscription.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from waconnect.errors import WaconnectError
from waconnect.wire._reader import Node, load

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"


class SnsSubscriptionMessage(WaconnectError):
    """An SNS subscription control message, not a notification: confirm it, don't process it."""

    def __init__(self, *, kind: str, topic_arn: str, subscribe_url: str, token: str) -> None:
        self.kind = kind
        self.topic_arn = topic_arn
        self.subscribe_url = subscribe_url
        self.token = token
        super().__init__(f"SNS {kind} for {topic_arn or 'an unnamed topic'}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SnsNotification:
    """One published message: its text, attributes by name, and where it sat in the document."""

    message: str
    attributes: dict[str, str] = field(default_factory=dict)
    message_id: str = ""
    topic_arn: str = ""
    timestamp: str = ""
    path: str = "Message"  # the path of ``message`` inside the document, for nested errors

    def message_node(self, source: str) -> Node:
        return Node(self.message, self.path, source).decoded()


def is_http_envelope(doc: Mapping[str, Any]) -> bool:
    return isinstance(doc.get("Type"), str) and "Message" in doc


def is_lambda_event(doc: Mapping[str, Any]) -> bool:
    records = doc.get("Records")
    return (
        isinstance(records, list)
        and bool(records)
        and all(isinstance(r, Mapping) and "Sns" in r for r in records)
    )


def unwrap_http_envelope(root: Node) -> SnsNotification:
    """The notification an SNS HTTP(S) subscription POSTs, or ``SnsSubscriptionMessage``."""
    return _envelope(root)


def unwrap_lambda_event(root: Node) -> list[SnsNotification]:
    """Every record of a Lambda SNS event, in order."""
    records = root.child("Records").items()
    if not records:
        root.child("Records").fail("no records")
    return [_envelope(record.child("Sns")) for record in records]


def _envelope(node: Node) -> SnsNotification:
    kind = node.req_str("Type")
    if kind in (SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION):
        raise SnsSubscriptionMessage(
            kind=kind,
            topic_arn=node.opt_str("TopicArn"),
            subscribe_url=node.opt_str("SubscribeURL"),
            token=node.opt_str("Token"),
        )
    if kind != NOTIFICATION:
        node.child("Type").fail("not an SNS notification type")
    message = node.child("Message")
    return SnsNotification(
        message=message.text(),
        attributes=_attributes(node),
        message_id=node.opt_str("MessageId"),
        topic_arn=node.opt_str("TopicArn"),
        timestamp=node.opt_str("Timestamp"),
        path=message.path,
    )


def _attributes(node: Node) -> dict[str, str]:
    attributes = node.get("MessageAttributes")
    if attributes is None:
        return {}
    result: dict[str, str] = {}
    for name in attributes.mapping():
        entry = attributes.child(name)
        result[name] = entry.req_str("Value")
    return result


# -- building (the sandbox publishes exactly what SNS delivers) --------------------------------


def build_http_envelope(
    message: str,
    attributes: Mapping[str, str],
    *,
    topic_arn: str,
    message_id: str,
    timestamp: str,
    signature: str = "",
) -> dict[str, Any]:
    """An SNS HTTP(S) ``Notification`` as a subscriber endpoint receives it."""
    region = topic_arn.split(":")[3] if topic_arn.count(":") >= 5 else "us-east-1"
    host = f"https://sns.{region}.amazonaws.com"
    return {
        "Type": NOTIFICATION,
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": timestamp,
        "SignatureVersion": "2",
        "Signature": signature or _placeholder_signature(message_id, message),
        "SigningCertURL": f"{host}/SimpleNotificationService-sandbox.pem",
        "UnsubscribeURL": (f"{host}/?Action=Unsubscribe&SubscriptionArn={topic_arn}:{message_id}"),
        "MessageAttributes": {
            name: {"Type": "String", "Value": value} for name, value in attributes.items()
        },
    }


def build_lambda_event(envelopes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The Lambda SNS event that delivers these HTTP envelopes, one record each."""
    records = []
    for envelope in envelopes:
        sns = {k: v for k, v in envelope.items() if k not in ("SigningCertURL", "UnsubscribeURL")}
        # Lambda spells these two with "Url", and adds a Subject.
        sns["SigningCertUrl"] = envelope.get("SigningCertURL", "")
        sns["UnsubscribeUrl"] = envelope.get("UnsubscribeURL", "")
        sns.setdefault("Subject", None)
        topic_arn = str(envelope.get("TopicArn", ""))
        records.append(
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{envelope.get('MessageId', '')}",
                "Sns": sns,
            }
        )
    return {"Records": records}


def _placeholder_signature(message_id: str, message: str) -> str:
    # Not a real signature: the sandbox's subscriber does not verify it.
    digest = hashlib.sha256(f"{message_id}\n{message}".encode()).digest()
    return base64.b64encode(digest).decode()


def dumps(value: Any) -> str:
    """JSON text the way AWS services publish it: compact, non-ASCII kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def unwrap_sns(
    doc: Mapping[str, Any] | str | bytes, *, source: str = "sns"
) -> list[SnsNotification]:
    """The notifications of an SNS HTTP envelope or a Lambda SNS event, in order."""
    root = load(doc, source)
    if is_lambda_event(root.mapping()):
        return unwrap_lambda_event(root)
    return [unwrap_http_envelope(root)]
