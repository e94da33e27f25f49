"""The single front door for inbound documents, whatever wrapping they arrive in.

| shape                        | detected by                                          |
| SNS HTTP envelope            | ``Type`` + ``Message``                               |
| Lambda SNS event             | ``Records[].Sns``                                    |
| bare EUM notification        | ``whatsAppWebhookEntry``                             |
| Meta webhook body            | ``object: "whatsapp_business_account"`` + ``entry``  |
| bare Connect streaming event | ``ContactId`` + ``ParticipantRole`` or ``Type``      |
| Transcribe job state change  | ``source: aws.transcribe`` + ``detail-type`` (EventBridge) |

Malformed input of any kind raises only ``MalformedPayload``; an SNS subscription control
message raises ``SnsSubscriptionMessage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from waconnect.domain.connect import ConnectEvent
from waconnect.domain.whatsapp import InboundBatch, InboundMessage, StatusUpdate
from waconnect.wire._reader import Node, load
from waconnect.wire.connect_stream import is_connect_message, parse_connect_node
from waconnect.wire.eum import is_eum_notification, parse_eum_node
from waconnect.wire.meta_webhook import WEBHOOK_OBJECT, parse_meta_webhook_node
from waconnect.wire.sns import (
    SnsNotification,
    is_http_envelope,
    is_lambda_event,
    unwrap_http_envelope,
    unwrap_lambda_event,
)
from waconnect.wire.transcribe_event import is_transcription_event

Document = Mapping[str, Any] | str | bytes
Kind = Literal["whatsapp", "connect", "transcription"]
Form = Literal["sns-envelope", "lambda-sns", "eum", "meta-webhook", "connect", "eventbridge"]


def detect_form(doc: Document) -> Form:
    """How a document is wrapped; ``MalformedPayload`` when no known shape fits."""
    return _form(load(doc, "payload"))


def classify(doc: Document) -> Kind:
    """Whether a document carries WhatsApp traffic, Connect streaming events or the end of a
    transcription job."""
    root = load(doc, "payload")
    form = _form(root)
    if form in ("eum", "meta-webhook"):
        return "whatsapp"
    if form == "connect":
        return "connect"
    if form == "eventbridge":
        return "transcription"
    notifications = _unwrap(root, form)
    inner = notifications[0].message_node("sns")
    inner_form = _form(inner)
    if inner_form in ("eum", "meta-webhook"):
        return "whatsapp"
    if inner_form == "connect":
        return "connect"
    return inner.fail("an SNS message must hold a WhatsApp or Connect payload")


def parse_whatsapp_document(doc: Document) -> InboundBatch:
    """An EUM notification or Meta webhook body, bare or in SNS; Lambda records are merged."""
    root = load(doc, "whatsapp")
    form = _form(root)
    if form in ("sns-envelope", "lambda-sns"):
        batches = [_whatsapp_inner(n.message_node("sns")) for n in _unwrap(root, form)]
        return _merge(batches)
    if form == "connect":
        root.fail("a Connect streaming event, not a WhatsApp payload")
    return _whatsapp_inner(root)


def parse_connect_document(doc: Document) -> list[ConnectEvent]:
    """Connect streaming events, bare or in an SNS envelope or Lambda event."""
    root = load(doc, "connect")
    form = _form(root)
    if form in ("sns-envelope", "lambda-sns"):
        events = []
        for notification in _unwrap(root, form):
            decoded = notification.message_node("sns")
            node = Node(decoded.value, decoded.path, "connect")
            if _form(node) != "connect":
                node.fail("not a Connect streaming message")
            events.append(parse_connect_node(node, notification.attributes))
        return events
    if form != "connect":
        root.fail("not a Connect streaming payload")
    return [parse_connect_node(root, {})]


def _form(node: Node) -> Form:
    doc = node.mapping()
    if is_lambda_event(doc):
        return "lambda-sns"
    if is_http_envelope(doc):
        return "sns-envelope"
    if is_eum_notification(doc):
        return "eum"
    if doc.get("object") == WEBHOOK_OBJECT or ("object" in doc and "entry" in doc):
        return "meta-webhook"
    if is_connect_message(doc):
        return "connect"
    if is_transcription_event(doc):
        return "eventbridge"
    return node.fail("unrecognised payload shape (see the table of shapes in docs/replay.md)")


def _unwrap(root: Node, form: Form) -> list[SnsNotification]:
    if form == "lambda-sns":
        return unwrap_lambda_event(root)
    return [unwrap_http_envelope(root)]


def _whatsapp_inner(node: Node) -> InboundBatch:
    form = _form(node)
    if form == "eum":
        return parse_eum_node(Node(node.value, node.path, "eum"))
    if form == "meta-webhook":
        return parse_meta_webhook_node(Node(node.value, node.path, "meta"))
    return node.fail("not an End User Messaging notification or a Meta webhook body")


def _merge(batches: list[InboundBatch]) -> InboundBatch:
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    unreadable: list[str] = []
    ignored: list[str] = []
    for batch in batches:
        messages.extend(batch.messages)
        statuses.extend(batch.statuses)
        unreadable.extend(batch.unreadable)
        ignored.extend(batch.ignored)
    source = batches[0].source if len({b.source for b in batches}) == 1 else "mixed"
    return InboundBatch(
        source=source,
        messages=tuple(messages),
        statuses=tuple(statuses),
        unreadable=tuple(unreadable),
        ignored=tuple(ignored),
    )
