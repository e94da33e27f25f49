"""What the agent reads for a customer's message, whatever WhatsApp type it had.

Connect chat shows plain text and attachments. Every type WhatsApp delivers becomes text here —
locations, contacts, reactions, button and list replies, flows, orders, system notices, and a
notice for what cannot be shown — so nothing the customer sent goes missing from the chat.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from waconnect.domain.render_replies import FLOW_TEXT_LIMIT, render_reply
from waconnect.domain.text import cap, shorten
from waconnect.domain.whatsapp import (
    ContactCard,
    InboundMessage,
    LabeledValue,
    Location,
    MessageType,
    Order,
    Reaction,
    Referral,
    Revision,
    SystemNotice,
    WhatsAppError,
)

SNIPPET_LIMIT = 80
# What the agent is shown of one message at most: four times the 4,096 characters WhatsApp lets
# a customer type, so only a forged or broken payload reaches it. Split for Connect's 1,024 per
# message, that is at most 32 chat messages; the rest is summarised in a notice.
AGENT_TEXT_LIMIT = 16_384
MAP_LINK = "https://www.google.com/maps/search/?api=1&query={latitude:.6f},{longitude:.6f}"


def snippet(text: str) -> str:
    """``text`` on one line, shortened on a word boundary, to quote an earlier message."""
    return shorten(text, SNIPPET_LIMIT)


def render_for_agent(message: InboundMessage, *, quoted: str | None = None) -> str:
    """The text the agent sees for ``message``; ``quoted`` is the text it replies or reacts to.

    A media message gives its caption (the file itself goes as an attachment), or "" without one.
    Every other type gives non-empty text. No result is longer than ``AGENT_TEXT_LIMIT`` plus
    the notice that says how much was left out.
    """
    text = _render(message, quoted)
    kept, dropped = cap(text, AGENT_TEXT_LIMIT)
    if not dropped:
        return text
    return (
        f"{kept}…\n⚠️ The rest of this message ({dropped:,} more characters) is not shown: the "
        f"bridge passes on at most {AGENT_TEXT_LIMIT:,} characters of one message, four times "
        "what WhatsApp lets a customer type."
    )


def _render(message: InboundMessage, quoted: str | None) -> str:
    if message.revision is not None:
        return render_revision(message.revision, quoted)
    origin = [render_referral(message.referral)] if message.referral is not None else []
    if message.type.has_media or message.media is not None:
        body = message.media.caption.strip() if message.media is not None else ""
        if not body:
            # The file speaks for itself; only where it came from needs words.
            return "\n".join(origin)
    else:
        body = _body(message, quoted)
    return "\n".join([*origin, *_context_lines(message, quoted), body])


def render_revision(revision: Revision, quoted: str | None) -> str:
    """An edit, with the message as it now reads, or a deletion; naming the original's words
    when they are remembered."""
    original = f"«{snippet(quoted)}»" if quoted and quoted.strip() else "an earlier message"
    if revision.new is None:
        return f"🗑 The customer deleted {original}."
    new = replace(revision.new, context=None)
    if new.media is None:
        return f"✏️ The customer edited {original}. It now reads:\n{_render(new, None)}"
    what = _MEDIA_WORDS.get(new.type.value, "file")
    line = f"✏️ The customer edited {original}. It is now a new {what}, sent as a file"
    caption = new.media.caption.strip()
    return f"{line}, with the caption:\n{caption}" if caption else f"{line}."


def render_referral(referral: Referral) -> str:
    """The ad or post the customer came from: "📣 From an ad: «headline» — source_url"."""
    what = {"ad": "an ad", "post": "a post"}.get(referral.source_type, "an ad or post")
    title = referral.headline.strip() or referral.body.strip()
    line = f"📣 From {what}"
    if title:
        line += f": «{snippet(title)}»"
    link = referral.source_url or referral.image_url or referral.video_url
    line = f"{line} — {link}" if link else line
    body = referral.body.strip()
    if body and body != title:
        # The ad's own text, below its headline: what the customer was answering.
        line += f"\n{shorten(body, FLOW_TEXT_LIMIT)}"
    return line


def _context_lines(message: InboundMessage, quoted: str | None) -> list[str]:
    context = message.context
    if context is None:
        return []
    if context.frequently_forwarded:
        return ["↪ Forwarded many times"]
    if context.forwarded:
        return ["↪ Forwarded"]
    if message.type is MessageType.REACTION or not context.is_reply:
        # A reaction names what it reacts to in its own words.
        return []
    if quoted and quoted.strip():
        return [f"↩ «{snippet(quoted)}»"]
    if context.referred_product_id:
        return [f"↩ asking about product {context.referred_product_id}"]
    return ["↩ replying to an earlier message"]


def _body(message: InboundMessage, quoted: str | None) -> str:
    if message.unreadable:
        notice = render_unreadable(message.wire_type, message.unreadable)
        if not message.salvaged:
            return notice
        return "\n".join([notice, "What it held:", *(f"• {item}" for item in message.salvaged)])
    match message.type:
        case MessageType.TEXT:
            return message.text or _cannot_show(message, "an empty text")
        case MessageType.LOCATION if message.location is not None:
            return render_location(message.location)
        case MessageType.CONTACTS if message.contacts:
            return "\n\n".join(render_contact(card) for card in message.contacts)
        case MessageType.REACTION if message.reaction is not None:
            return render_reaction(message.reaction, quoted)
        case MessageType.INTERACTIVE | MessageType.BUTTON if message.reply is not None:
            return render_reply(message.reply)
        case MessageType.ORDER if message.order is not None:
            return render_order(message.order)
        case MessageType.SYSTEM if message.system is not None:
            return render_system(message.system)
        case MessageType.UNSUPPORTED:
            return render_unsupported(message.errors, message.unsupported_type)
        case _:
            return _cannot_show(message, f"a message of type “{message.wire_type or 'unknown'}”")


def _cannot_show(message: InboundMessage, what: str) -> str:
    codes = _error_summary(message.errors)
    because = f" ({codes})" if codes else ""
    return (
        f"⚠️ The customer sent {what}, which can't be shown here{because}. "
        "Ask them to send it another way if it matters."
    )


def render_unreadable(wire_type: str, problem: str) -> str:
    """A message WhatsApp delivered that could not be read: its type, and where and why."""
    kind = wire_type.strip()
    what = f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind} message" if kind else "a message"
    return f"⚠️ The customer sent {what} that could not be read: {problem}"


def render_location(location: Location) -> str:
    """Name, address, coordinates (6 decimals) and a map link, plus the location's own link."""
    coordinates = {"latitude": location.latitude, "longitude": location.longitude}
    lines = [f"📍 Location: {location.name}" if location.name else "📍 Location"]
    lines.append(location.address)
    lines.append("{latitude:.6f}, {longitude:.6f}".format_map(coordinates))
    lines.append(MAP_LINK.format_map(coordinates))
    lines.append(location.url)
    return "\n".join(line for line in lines if line)


def render_contact(card: ContactCard) -> str:
    """A readable card: name, organisation and title, phones, emails, links, addresses, birthday."""
    name = card.formatted_name or " ".join(p for p in (card.first_name, card.last_name) if p)
    lines = [f"👤 Contact: {name or 'no name given'}"]
    left_out = [part for part in card.name_parts if part not in name]
    if left_out:
        lines.append("Full name: " + " ".join(card.name_parts))
    lines.append(" — ".join(p for p in (card.organization, card.title) if p))
    lines.extend(f"📞 {_labeled(phone, on_whatsapp=bool(phone.wa_id))}" for phone in card.phones)
    lines.extend(f"✉️ {_labeled(email)}" for email in card.emails)
    lines.extend(f"🔗 {_labeled(url)}" for url in card.urls)
    lines.extend(f"🏠 {_labeled(address)}" for address in card.addresses)
    lines.append(f"🎂 {card.birthday}" if card.birthday else "")
    return "\n".join(line for line in lines if line)


def _labeled(item: LabeledValue, *, on_whatsapp: bool = False) -> str:
    # Labels arrive as WhatsApp's upper-case types ("CELL", "WORK"); read them as words.
    label = item.label.strip()
    notes = [label.capitalize() if label.isupper() else label]
    if on_whatsapp:
        notes.append("on WhatsApp")
    note = ", ".join(n for n in notes if n)
    return f"{item.value} ({note})" if note else item.value


def render_reaction(reaction: Reaction, quoted: str | None) -> str:
    """ "reacted 👍 to: «…»", or to "an earlier message" when its text is not known."""
    target = f": «{snippet(quoted)}»" if quoted and quoted.strip() else " an earlier message"
    if reaction.removed:
        return f"removed their reaction to{target}"
    return f"reacted {reaction.emoji} to{target}"


def render_order(order: Order) -> str:
    """One line per item (id × quantity @ price currency), the total per currency, its text."""
    lines = ["🛒 Order"]
    totals: dict[str, Decimal] = {}
    for item in order.items:
        price = Decimal(str(item.item_price))
        lines.append(
            f"• {item.product_retailer_id} × {item.quantity} @ {_money(price)} {item.currency}"
        )
        totals[item.currency] = totals.get(item.currency, Decimal(0)) + price * item.quantity
    if totals:
        lines.append("Total: " + " + ".join(f"{_money(v)} {c}" for c, v in totals.items()))
    else:
        lines.append("(no items)")
    if order.text:
        lines.append(order.text)
    return "\n".join(lines)


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def render_system(notice: SystemNotice) -> str:
    """A notice from WhatsApp about the customer, such as a changed number (with the new one)."""
    text = notice.body.strip() or _system_default(notice.kind)
    if notice.new_wa_id and notice.new_wa_id not in text:
        text += f" New WhatsApp number: {notice.new_wa_id}."
    if notice.customer and notice.customer not in text:
        before = "Previous number" if "changed_number" in notice.kind else "About"
        text += f" {before}: {notice.customer}."
    return f"ℹ️ {text}"


def _system_default(kind: str) -> str:
    if "changed_number" in kind:
        return "The customer changed their WhatsApp number."
    if "identity_changed" in kind:
        return "The customer's identity changed (for example a new phone or a reinstall)."
    return f"WhatsApp sent a notice about this customer ({kind or 'no details'})."


def render_unsupported(errors: tuple[WhatsAppError, ...], kind: str = "") -> str:
    """The customer sent something WhatsApp could not deliver to the business, of type ``kind``
    as WhatsApp named it; without a name, its wire type ("unsupported") stands in."""
    codes = _error_summary(errors)
    because = f" ({codes})" if codes else ""
    named = f"“{kind.strip()}”" if kind.strip() else "“unsupported” (WhatsApp named it no further)"
    return (
        f"⚠️ The customer sent a message of type {named}, which WhatsApp could not deliver to "
        f"the business{because}. Ask them to send it another way if it matters."
    )


def _error_summary(errors: tuple[WhatsAppError, ...]) -> str:
    summaries = []
    for error in errors:
        words = error.title or error.message or "error"
        detail = f": {error.details}" if error.details and error.details != words else ""
        summaries.append(f"{words}{detail}, code {error.code}")
    return "; ".join(summaries)


_MEDIA_WORDS = {
    "image": "photo",
    "video": "video",
    "audio": "audio file",
    "voice": "voice note",
    "document": "document",
    "sticker": "sticker",
}


def render_media_notice(
    kind: str,
    filename: str,
    content_type: str,
    size: int | None,
    reason: str,
    *,
    link: str = "",
) -> str:
    """A file that could not be attached: which one, its type and size, why, and where it is.

    ``reason`` completes "it could not be attached because …" (for example "it is larger than
    the 20 MB Connect accepts"); ``link`` is a time-limited download link when there is one.
    """
    what = _MEDIA_WORDS.get(kind, "file")
    named = f" “{filename}”" if filename else ""
    facts = ", ".join(p for p in (content_type, "" if size is None else human_size(size)) if p)
    described = f"{what}{named}" + (f" ({facts})" if facts else "")
    why = reason.strip().rstrip(".")
    line = f"📎 The customer's {described} could not be attached" + (f": {why}." if why else ".")
    if link:
        return f"{line}\nDownload it while the link lasts: {link}"
    return line


def human_size(size: int) -> str:
    """Bytes for people: "512 bytes", "1.5 KB", "20 MB" (powers of 1024)."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size} bytes"
    value = size / 1024
    for unit in ("KB", "MB", "GB"):
        if value < 1024:
            return _amount(value, unit)
        value /= 1024
    return _amount(value, "TB")


def _amount(value: float, unit: str) -> str:
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def render_transcript(text: str) -> str:
    """A voice note's transcript as the agent sees it."""
    words = text.strip()
    return f"🔊 {words}" if words else "🔊 (no words recognised in the voice note)"
