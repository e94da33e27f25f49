"""One Meta message object (``value.messages[i]``) into an ``InboundMessage``.

``parse_message`` is the one place that ``match``es on the wire type. Unknown types become
``MessageType.UNKNOWN`` with the raw object kept; unknown extra fields are ignored.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from waconnect.domain.whatsapp import (
    BusinessNumber,
    ContactCard,
    Context,
    Customer,
    InboundMessage,
    LabeledValue,
    Location,
    Media,
    MessageType,
    Order,
    OrderItem,
    Reaction,
    Referral,
    Reply,
    Revision,
    SystemNotice,
    WhatsAppError,
)
from waconnect.errors import MalformedPayload
from waconnect.wire._reader import Node

logger = logging.getLogger(__name__)


def parse_message(node: Node, *, business: BusinessNumber, customer: Customer) -> InboundMessage:
    wire_type = node.req_str("type")
    kind = MessageType.parse(wire_type)
    if wire_type == "unknown" and node.get("errors") is not None:
        # Older API versions name a message WhatsApp could not deliver "unknown" (with errors).
        kind = MessageType.UNSUPPORTED
    fields: dict[str, Any] = {}
    match kind:
        case MessageType.TEXT:
            fields["text"] = node.child("text").req_str("body")
        case (
            MessageType.IMAGE
            | MessageType.VIDEO
            | MessageType.AUDIO
            | MessageType.DOCUMENT
            | MessageType.STICKER
        ):
            fields["media"] = parse_media(node.child(wire_type))
        case MessageType.LOCATION:
            fields["location"] = _location(node.child("location"))
        case MessageType.CONTACTS:
            fields["contacts"] = tuple(_contact(card) for card in node.child("contacts").items())
        case MessageType.INTERACTIVE:
            fields["reply"] = _interactive(node.child("interactive"))
        case MessageType.BUTTON:
            button = node.child("button")
            fields["reply"] = Reply(
                kind="button", reply_id=button.opt_str("payload"), title=button.opt_str("text")
            )
        case MessageType.REACTION:
            reaction = node.child("reaction")
            fields["reaction"] = Reaction(
                message_id=reaction.req_str("message_id"), emoji=reaction.opt_str("emoji")
            )
        case MessageType.ORDER:
            fields["order"] = _order(node.child("order"))
        case MessageType.SYSTEM:
            fields["system"] = _system(node.child("system"))
        case MessageType.EDIT:
            revision = _edit(node, business=business, customer=customer)
            fields["revision"] = revision
            if revision.new is not None and revision.new.media is not None:
                # The edited message's file is the one the agent gets.
                fields["media"] = revision.new.media
        case MessageType.REVOKE:
            revoke = node.child("revoke")
            fields["revision"] = Revision(original_message_id=revoke.opt_str("original_message_id"))
        case MessageType.UNSUPPORTED:
            detail = node.get("unsupported")
            fields["unsupported_type"] = "" if detail is None else detail.opt_str("type")
        case MessageType.UNKNOWN:
            pass
    context = node.get("context")
    referral = node.get("referral")
    return InboundMessage(
        wamid=node.req_str("id"),
        business=business,
        customer=customer,
        timestamp=node.child("timestamp").timestamp(),
        type=kind,
        wire_type=wire_type,
        errors=parse_errors(node),
        context=None if context is None else _context(context),
        referral=None if referral is None else _referral(referral),
        raw=dict(node.mapping()),
        **fields,
    )


def _edit(node: Node, *, business: BusinessNumber, customer: Customer) -> Revision:
    """An ``edit``: the original's id and the message as it now reads (its own type and body).

    The new message carries no id or time of its own; it takes the edit's.
    """
    edit = node.child("edit")
    new = edit.child("message")
    if new.has("edit") or new.opt_str("type") == "edit":
        new.fail("an edit of an edit")
    inner = {**new.mapping(), "id": node.req_str("id"), "timestamp": node.child("timestamp").value}
    message = parse_message(Node(inner, new.path, new.source), business=business, customer=customer)
    return Revision(original_message_id=edit.opt_str("original_message_id"), new=message)


def unreadable_message(
    node: Node,
    *,
    business: BusinessNumber,
    customer: Customer,
    problem: MalformedPayload,
) -> InboundMessage:
    """A message whose ids read well but whose body did not: UNKNOWN, saying what was wrong.

    Raises ``MalformedPayload`` when the ids themselves are unreadable: such a message cannot
    be claimed, ordered or answered, only reported.
    """
    wamid = node.req_str("id")
    timestamp = node.child("timestamp").timestamp()
    wire_type = node.value.get("type")
    try:
        errors = parse_errors(node)
    except MalformedPayload:
        errors = ()
    where = problem.path.removeprefix(node.path).lstrip(".")
    body = {k: v for k, v in node.mapping().items() if k not in _ENVELOPE_KEYS}
    return InboundMessage(
        wamid=wamid,
        business=business,
        customer=customer,
        timestamp=timestamp,
        type=MessageType.UNKNOWN,
        wire_type=wire_type if isinstance(wire_type, str) else "",
        errors=errors,
        unreadable=f"{where}: {problem.reason}" if where else problem.reason,
        salvaged=tuple(_leaves(body, "")),
        raw=dict(node.mapping()),
    )


# What identifies and routes a message: never customer content, so never worth salvaging.
_ENVELOPE_KEYS = frozenset({"id", "from", "from_user_id", "timestamp", "type", "context", "errors"})
# The keys of a message the bridge reads, besides the one its type names ("text", "image"...).
READ_KEYS = _ENVELOPE_KEYS | {"referral"}


def unused_keys(node: Node) -> list[str]:
    """The keys of a message the bridge does not read (Meta adds some, like ``identity``)."""
    own = node.mapping().get("type")
    return sorted(key for key in node.mapping() if key not in READ_KEYS and key != own)


# Fields no person wrote or reads: a file's id, hash and type, flags.
_TECHNICAL_KEYS = frozenset({"id", "sha256", "mime_type", "voice", "animated"})
SALVAGE_LIMIT = 40


def _leaves(value: Any, path: str) -> list[str]:
    """``"path: value"`` for the first texts and numbers of an unreadable body, in order."""
    found: list[str] = []
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack and len(found) < SALVAGE_LIMIT:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend(
                (f"{where}.{k}" if where else str(k), v) for k, v in reversed(item.items())
            )
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in reversed(list(enumerate(item))))
        elif where.rsplit(".", 1)[-1] in _TECHNICAL_KEYS:
            continue
        elif isinstance(item, str) and item.strip():
            found.append(f"{where}: {item.strip()}")
        elif isinstance(item, int | float) and not isinstance(item, bool):
            found.append(f"{where}: {item}")
    return found


def parse_media(node: Node) -> Media:
    return Media(
        media_id=node.req_str("id"),
        mime_type=node.opt_str("mime_type"),
        sha256=node.opt_str("sha256"),
        caption=node.opt_str("caption"),
        filename=node.opt_str("filename"),
        voice=node.opt_bool("voice"),
        animated=node.opt_bool("animated"),
        url=node.opt_str("url"),
    )


def parse_errors(node: Node) -> tuple[WhatsAppError, ...]:
    errors = []
    for error in node.list_of("errors"):
        data = error.get("error_data")
        errors.append(
            WhatsAppError(
                code=error.child("code").integer(),
                title=error.opt_str("title"),
                message=error.opt_str("message"),
                details="" if data is None else data.opt_str("details"),
            )
        )
    return tuple(errors)


def _context(node: Node) -> Context:
    product = node.get("referred_product")
    return Context(
        message_id=node.opt_str("id"),
        from_=node.opt_str("from"),
        forwarded=node.opt_bool("forwarded"),
        frequently_forwarded=node.opt_bool("frequently_forwarded"),
        referred_product_id="" if product is None else product.opt_str("product_retailer_id"),
    )


def _referral(node: Node) -> Referral:
    return Referral(
        source_url=node.opt_str("source_url"),
        source_id=node.opt_str("source_id"),
        source_type=node.opt_str("source_type"),
        headline=node.opt_str("headline"),
        body=node.opt_str("body"),
        media_type=node.opt_str("media_type"),
        image_url=node.opt_str("image_url"),
        video_url=node.opt_str("video_url"),
        thumbnail_url=node.opt_str("thumbnail_url"),
        ctwa_clid=node.opt_str("ctwa_clid"),
    )


def _location(node: Node) -> Location:
    return Location(
        latitude=node.child("latitude").number(),
        longitude=node.child("longitude").number(),
        name=node.opt_str("name"),
        address=node.opt_str("address"),
        url=node.opt_str("url"),
    )


def _contact(node: Node) -> ContactCard:
    name = node.get("name")
    first = "" if name is None else name.opt_str("first_name")
    last = "" if name is None else name.opt_str("last_name")
    formatted = "" if name is None else name.opt_str("formatted_name")
    org = node.get("org")
    parts = ("prefix", "first_name", "middle_name", "last_name", "suffix")
    return ContactCard(
        formatted_name=formatted or " ".join(p for p in (first, last) if p),
        first_name=first,
        last_name=last,
        name_parts=() if name is None else tuple(p for p in map(name.opt_str, parts) if p),
        phones=tuple(
            LabeledValue(
                value=p.opt_str("phone"), label=p.opt_str("type"), wa_id=p.opt_str("wa_id")
            )
            for p in node.list_of("phones")
        ),
        emails=tuple(
            LabeledValue(value=e.opt_str("email"), label=e.opt_str("type"))
            for e in node.list_of("emails")
        ),
        urls=tuple(
            LabeledValue(value=u.opt_str("url"), label=u.opt_str("type"))
            for u in node.list_of("urls")
        ),
        addresses=tuple(_address(a) for a in node.list_of("addresses")),
        organization=(
            ""
            if org is None
            else ", ".join(p for p in (org.opt_str("company"), org.opt_str("department")) if p)
        ),
        title="" if org is None else org.opt_str("title"),
        birthday=node.opt_str("birthday"),
    )


_ADDRESS_PARTS = ("street", "city", "state", "zip", "country", "country_code")


def _address(node: Node) -> LabeledValue:
    parts = [node.opt_str(part) for part in _ADDRESS_PARTS]
    # The country code only says again what a named country says.
    if parts[-2]:
        parts[-1] = ""
    return LabeledValue(value=", ".join(p for p in parts if p), label=node.opt_str("type"))


def _interactive(node: Node) -> Reply:
    kind = node.req_str("type")
    detail = node.get(kind)
    if kind == "call_permission_reply":
        answer = node.child(kind)
        return Reply(
            kind=kind, reply_id=answer.opt_str("response"), response=dict(answer.mapping())
        )
    if kind == "nfm_reply":
        flow = node.child(kind)
        response, response_text = _flow_response(flow.get("response_json"))
        return Reply(
            kind=kind,
            title=flow.opt_str("body") or flow.opt_str("name"),
            response=response,
            response_text=response_text,
        )
    if detail is None:
        logger.warning("interactive reply of type %r without its object", kind)
        return Reply(kind=kind)
    return Reply(
        kind=kind,
        reply_id=detail.opt_str("id"),
        title=detail.opt_str("title"),
        description=detail.opt_str("description"),
    )


def _flow_response(node: Node | None) -> tuple[dict[str, Any], str]:
    """The flow's answers as an object, or else their text as received (never dropped)."""
    if node is None:
        return {}, ""
    if isinstance(node.value, dict):
        return dict(node.value), ""
    if not isinstance(node.value, str):
        return {}, _compact(node.value)
    try:
        decoded = json.loads(node.value)
    except (ValueError, RecursionError):
        return {}, node.value
    return (decoded, "") if isinstance(decoded, dict) else ({}, node.value)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _order(node: Node) -> Order:
    return Order(
        catalog_id=node.req_str("catalog_id"),
        text=node.opt_str("text"),
        items=tuple(
            OrderItem(
                product_retailer_id=item.req_str("product_retailer_id"),
                quantity=item.child("quantity").integer(),
                item_price=item.child("item_price").number(),
                currency=item.req_str("currency"),
            )
            for item in node.list_of("product_items")
        ),
    )


def _system(node: Node) -> SystemNotice:
    return SystemNotice(
        body=node.opt_str("body"),
        kind=node.opt_str("type"),
        new_wa_id=node.opt_str("new_wa_id") or node.opt_str("wa_id"),
        customer=node.opt_str("customer"),
    )
