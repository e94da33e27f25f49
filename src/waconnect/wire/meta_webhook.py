"""Meta webhook bodies and entries: ``entry[].changes[].value`` into domain values.

End User Messaging wraps exactly one such ``entry`` per notification, so both sources share
``parse_entry``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waconnect.domain.whatsapp import (
    BusinessNumber,
    Customer,
    InboundBatch,
    InboundMessage,
    StatusKind,
    StatusUpdate,
)
from waconnect.errors import MalformedPayload
from waconnect.wire._clean import clean_display_name
from waconnect.wire._reader import ROOT, Node, join, load
from waconnect.wire.meta_message import (
    parse_errors,
    parse_message,
    unreadable_message,
    unused_keys,
)

logger = logging.getLogger(__name__)

WEBHOOK_OBJECT = "whatsapp_business_account"


def parse_meta_webhook(body: Mapping[str, Any] | str | bytes) -> InboundBatch:
    """A whole webhook POST body: many entries, each with many changes and messages."""
    return parse_meta_webhook_node(load(body, "meta"))


def parse_meta_webhook_node(root: Node) -> InboundBatch:
    if root.req_str("object") != WEBHOOK_OBJECT:
        root.child("object").fail(f"expected {WEBHOOK_OBJECT!r}")
    parsed = ParsedEntry()
    for entry in root.child("entry").items():
        parsed.extend(parse_entry_node(entry))
    return parsed.batch("meta")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedEntry:
    """What one or more entries carried, with what had to be left out and why."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def extend(self, other: ParsedEntry) -> None:
        self.messages.extend(other.messages)
        self.statuses.extend(other.statuses)
        self.unreadable.extend(other.unreadable)
        self.ignored.extend(other.ignored)

    def batch(self, source: str) -> InboundBatch:
        return InboundBatch(
            source=source,
            messages=tuple(self.messages),
            statuses=tuple(self.statuses),
            unreadable=tuple(self.unreadable),
            ignored=tuple(self.ignored),
        )


def parse_entry(
    entry: Mapping[str, Any],
    *,
    source: str,
    business_hints: Sequence[BusinessNumber] = (),
    path: str = ROOT,
) -> InboundBatch:
    """Messages and statuses of one ``entry``; ``path`` is where it sits in its document."""
    parsed = parse_entry_node(Node(entry, path, source), business_hints=business_hints)
    return parsed.batch(source)


def parse_entry_node(entry: Node, *, business_hints: Sequence[BusinessNumber] = ()) -> ParsedEntry:
    """One ``entry``, tolerant per message and per status.

    The structure (``changes[].value.metadata``) must hold, or ``MalformedPayload`` is raised. A
    message whose body is unreadable becomes an UNKNOWN message saying why; one whose ids are
    unreadable, and any unreadable status, is left out and named in ``unreadable``: one bad
    item never costs the others.
    """
    waba_id = entry.opt_str("id")
    parsed = ParsedEntry()
    for change in entry.child("changes").items():
        field_name = change.opt_str("field", "messages")
        if field_name != "messages":
            logger.info("ignoring webhook change of field %r at %s", field_name, change.path)
            parsed.ignored.append(
                f"{change.path}: a change of field {field_name!r}; the bridge reads only "
                "'messages' changes (customer messages and statuses)"
            )
            continue
        value = change.child("value")
        business = _business(value.child("metadata"), waba_id, business_hints)
        parsed.ignored.extend(_unread(value, sorted(set(value.mapping()) - VALUE_KEYS)))
        contacts = _contacts(value, parsed.ignored)
        for message in value.list_of("messages"):
            try:
                parsed.messages.append(_message(message, business, contacts))
            except MalformedPayload as exc:
                parsed.unreadable.append(_left_out("message", exc))
                continue
            parsed.ignored.extend(_unread(message, unused_keys(message)))
        for status in value.list_of("statuses"):
            try:
                parsed.statuses.append(_status(status, business))
            except MalformedPayload as exc:
                parsed.unreadable.append(_left_out("status", exc))
    return parsed


def _message(node: Node, business: BusinessNumber, contacts: list[Node]) -> InboundMessage:
    try:
        customer = _customer(node, contacts)
        return parse_message(node, business=business, customer=customer)
    except MalformedPayload as exc:
        problem = exc
    # Raises again when the fault is in the ids: then the message can only be reported.
    customer = _customer(node, contacts)
    message = unreadable_message(node, business=business, customer=customer, problem=problem)
    logger.warning(
        "message at %s unreadable, shown to the agent as such: %s", node.path, message.unreadable
    )
    return message


def _left_out(what: str, error: MalformedPayload) -> str:
    logger.warning(
        "%s left out of %s payload at %s: %s", what, error.source, error.path, error.reason
    )
    return str(error)


# The keys of a 'messages' change's value the bridge reads; others (value-wide "errors", echoes
# of the business's own messages, call events) are named as ignored.
VALUE_KEYS = frozenset({"messaging_product", "metadata", "contacts", "messages", "statuses"})


def _unread(node: Node, keys: Sequence[str]) -> list[str]:
    """``keys`` of ``node`` as ignored parts: what Meta sent that the bridge has no use for."""
    if keys:
        logger.info("ignoring %s at %s", ", ".join(keys), node.path)
    return [f"{join(node.path, key)}: not something the bridge reads" for key in keys]


def _contacts(value: Node, ignored: list[str]) -> list[Node]:
    try:
        return value.list_of("contacts")
    except MalformedPayload as exc:
        # Contacts only name senders; each message still has its own "from".
        logger.warning("ignoring unreadable contacts at %s: %s", exc.path, exc.reason)
        ignored.append(
            f"{exc.path}: unreadable contacts ({exc.reason}); each message's own "
            "'from' names its sender"
        )
        return []


def _business(metadata: Node, waba_id: str, hints: Sequence[BusinessNumber]) -> BusinessNumber:
    phone_number_id = metadata.req_str("phone_number_id")
    display = metadata.opt_str("display_phone_number")
    hint = _hint_for(phone_number_id, hints)
    if hint is not None:
        return BusinessNumber(
            meta_phone_number_id=phone_number_id,
            display_phone_number=display or hint.display_phone_number,
            waba_id=hint.waba_id or waba_id,
            aws_phone_number_id=hint.aws_phone_number_id,
        )
    if hints:
        logger.warning("webhook metadata names a phone number its envelope does not list")
    return BusinessNumber(
        meta_phone_number_id=phone_number_id,
        display_phone_number=display,
        waba_id=waba_id or (hints[0].waba_id if hints else ""),
    )


def _hint_for(phone_number_id: str, hints: Sequence[BusinessNumber]) -> BusinessNumber | None:
    """The envelope's number for this change: its own, or a lone one that names no number."""
    for hint in hints:
        if hint.meta_phone_number_id == phone_number_id:
            return hint
    if len(hints) == 1 and not hints[0].meta_phone_number_id:
        return hints[0]
    return None


def _customer(message: Node, contacts: list[Node]) -> Customer:
    wa_id = message.opt_str("from")
    user_id = message.opt_str("from_user_id")
    name = ""
    try:
        contact = _matching_contact(wa_id, user_id, contacts)
        if contact is not None:
            profile = contact.get("profile")
            name = "" if profile is None else profile.opt_str("name")
            wa_id = wa_id or contact.opt_str("wa_id")
            user_id = user_id or contact.opt_str("user_id")
    except MalformedPayload as exc:
        logger.warning("ignoring an unreadable contact at %s: %s", exc.path, exc.reason)
    if not wa_id and not user_id:
        message.fail("message has no sender: no 'from', 'from_user_id' or matching contact")
    return Customer(wa_id=wa_id, user_id=user_id, name=clean_display_name(name))


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
        timestamp=node.child("timestamp").timestamp(),
        recipient_id=node.opt_str("recipient_id"),
        recipient_user_id=node.opt_str("recipient_user_id"),
        errors=parse_errors(node),
        raw=dict(node.mapping()),
    )
