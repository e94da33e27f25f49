"""Meta webhook bodies and entries: ``entry[].changes[].value`` into domain values.

End User Messaging wraps exactly one such ``entry`` per notification, so both sources share
``parse_entry``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from waconnect.domain.whatsapp import (
    BusinessNumber,
    Customer,
    InboundBatch,
    InboundMessage,
    StatusKind,
    StatusUpdate,
)
from waconnect.wire._reader import ROOT, Node, load
from waconnect.wire.meta_message import parse_errors, parse_message

logger = logging.getLogger(__name__)

WEBHOOK_OBJECT = "whatsapp_business_account"


def parse_meta_webhook(body: Mapping[str, Any] | str | bytes) -> InboundBatch:
    """A whole webhook POST body: many entries, each with many changes and messages."""
    return parse_meta_webhook_node(load(body, "meta"))


def parse_meta_webhook_node(root: Node) -> InboundBatch:
    if root.req_str("object") != WEBHOOK_OBJECT:
        root.child("object").fail(f"expected {WEBHOOK_OBJECT!r}")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for entry in root.child("entry").items():
        found, updates = parse_entry_node(entry, business_hint=None)
        messages.extend(found)
        statuses.extend(updates)
    return InboundBatch(source="meta", messages=tuple(messages), statuses=tuple(statuses))


def parse_entry(
    entry: Mapping[str, Any],
    *,
    source: str,
    business_hint: BusinessNumber | None,
    path: str = ROOT,
) -> tuple[tuple[InboundMessage, ...], tuple[StatusUpdate, ...]]:
    """Messages and statuses of one ``entry``; ``path`` is where it sits in its document."""
    return parse_entry_node(Node(entry, path, source), business_hint=business_hint)


def parse_entry_node(
    entry: Node, *, business_hint: BusinessNumber | None
) -> tuple[tuple[InboundMessage, ...], tuple[StatusUpdate, ...]]:
    waba_id = entry.opt_str("id")
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for change in entry.child("changes").items():
        field = change.opt_str("field", "messages")
        if field != "messages":
            logger.info("ignoring webhook change of field %r at %s", field, change.path)
            continue
        value = change.child("value")
        business = _business(value.child("metadata"), waba_id, business_hint)
        contacts = value.list_of("contacts")
        for message in value.list_of("messages"):
            customer = _customer(message, contacts)
            messages.append(parse_message(message, business=business, customer=customer))
        statuses.extend(_status(status, business) for status in value.list_of("statuses"))
    return tuple(messages), tuple(statuses)


def _business(metadata: Node, waba_id: str, hint: BusinessNumber | None) -> BusinessNumber:
    phone_number_id = metadata.req_str("phone_number_id")
    display = metadata.opt_str("display_phone_number")
    if hint is not None and hint.meta_phone_number_id in ("", phone_number_id):
        return BusinessNumber(
            meta_phone_number_id=phone_number_id,
            display_phone_number=display or hint.display_phone_number,
            waba_id=hint.waba_id or waba_id,
            aws_phone_number_id=hint.aws_phone_number_id,
        )
    if hint is not None:
        logger.warning("webhook metadata names another phone number than its envelope")
    return BusinessNumber(
        meta_phone_number_id=phone_number_id,
        display_phone_number=display,
        waba_id=waba_id or ("" if hint is None else hint.waba_id),
    )


def _customer(message: Node, contacts: list[Node]) -> Customer:
    wa_id = message.opt_str("from")
    user_id = message.opt_str("from_user_id")
    contact = _matching_contact(wa_id, user_id, contacts)
    name = ""
    if contact is not None:
        profile = contact.get("profile")
        name = "" if profile is None else profile.opt_str("name")
        wa_id = wa_id or contact.opt_str("wa_id")
        user_id = user_id or contact.opt_str("user_id")
    if not wa_id and not user_id:
        message.fail("message has no sender: no 'from', 'from_user_id' or matching contact")
    return Customer(wa_id=wa_id, user_id=user_id, name=name)


def _matching_contact(wa_id: str, user_id: str, contacts: list[Node]) -> Node | None:
    for contact in contacts:
        if user_id and contact.opt_str("user_id") == user_id:
            return contact
        if wa_id and contact.opt_str("wa_id") == wa_id:
            return contact
    # A lone contact with no identity of its own that contradicts the sender is the sender.
    if len(contacts) == 1:
        lone = contacts[0]
        their_wa_id, their_user_id = lone.opt_str("wa_id"), lone.opt_str("user_id")
        if not (wa_id and their_wa_id) and not (user_id and their_user_id):
            return lone
    return None


def _status(node: Node, business: BusinessNumber) -> StatusUpdate:
    return StatusUpdate(
        wamid=node.req_str("id"),
        business=business,
        status=StatusKind.parse(node.req_str("status")),
        timestamp=node.child("timestamp").integer(),
        recipient_id=node.opt_str("recipient_id"),
        recipient_user_id=node.opt_str("recipient_user_id"),
        errors=parse_errors(node),
        raw=dict(node.mapping()),
    )
