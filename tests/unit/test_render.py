from __future__ import annotations

from typing import Any

import pytest

from waconnect.domain.render import (
    human_size,
    render_for_agent,
    render_media_notice,
    render_transcript,
    snippet,
)
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
    Reply,
    SystemNotice,
    WhatsAppError,
)

BUSINESS = BusinessNumber(
    meta_phone_number_id="100000000000001", display_phone_number="15550100000"
)
CUSTOMER = Customer(wa_id="15550100001", name="Test Customer")
LONG_QUOTE = (
    "Could you please check the status of my order from last Tuesday, it was supposed to "
    "arrive yesterday but nothing came"
)


def message(kind: MessageType, **fields: Any) -> InboundMessage:
    return InboundMessage(
        wamid="wamid.TEST0001",
        business=BUSINESS,
        customer=CUSTOMER,
        timestamp=1_764_000_000,
        type=kind,
        wire_type=fields.pop("wire_type", kind.value),
        **fields,
    )


FULL_CARD = ContactCard(
    formatted_name="Ana Example",
    first_name="Ana",
    last_name="Example",
    organization="Example Corp",
    title="Buyer",
    phones=(
        LabeledValue(value="+1 555 0100 0002", label="CELL", wa_id="15550100002"),
        LabeledValue(value="+1 555 0100 0003", label="WORK"),
    ),
    emails=(LabeledValue(value="ana@example.com", label="HOME"),),
    urls=(LabeledValue(value="https://example.com/ana"),),
    addresses=(LabeledValue(value="1 Example St, Springfield, 00000, US", label="HOME"),),
    birthday="1990-01-31",
)

RENDERED = [
    pytest.param(message(MessageType.TEXT, text="Hello there"), None, "Hello there", id="text"),
    pytest.param(
        message(MessageType.TEXT, text="Yes", context=Context(message_id="wamid.PREV")),
        "Is the parcel damaged?",
        "↩ «Is the parcel damaged?»\nYes",
        id="reply-quoted",
    ),
    pytest.param(
        message(MessageType.TEXT, text="Yes", context=Context(message_id="wamid.PREV")),
        None,
        "↩ replying to an earlier message\nYes",
        id="reply-unknown-quote",
    ),
    pytest.param(
        message(MessageType.TEXT, text="Yes", context=Context(message_id="wamid.PREV")),
        LONG_QUOTE,
        "↩ «Could you please check the status of my order from last Tuesday, it was…»\nYes",
        id="reply-long-quote-shortened",
    ),
    pytest.param(
        message(
            MessageType.TEXT,
            text="Is it in stock?",
            context=Context(message_id="wamid.PREV", referred_product_id="SKU-1"),
        ),
        None,
        "↩ asking about product SKU-1\nIs it in stock?",
        id="reply-about-product",
    ),
    pytest.param(
        message(MessageType.TEXT, text="Look", context=Context(forwarded=True)),
        None,
        "↪ Forwarded\nLook",
        id="forwarded",
    ),
    pytest.param(
        message(
            MessageType.TEXT,
            text="Look",
            context=Context(message_id="wamid.X", frequently_forwarded=True),
        ),
        "ignored",
        "↪ Forwarded many times\nLook",
        id="forwarded-many-times",
    ),
    pytest.param(
        message(
            MessageType.LOCATION,
            location=Location(
                latitude=52.520008,
                longitude=13.404954,
                name="Example Café",
                address="1 Example Street",
                url="https://example.com/cafe",
            ),
        ),
        None,
        "📍 Location: Example Café\n1 Example Street\n52.520008, 13.404954\n"
        "https://www.google.com/maps/search/?api=1&query=52.520008,13.404954\n"
        "https://example.com/cafe",
        id="location-full",
    ),
    pytest.param(
        message(MessageType.LOCATION, location=Location(latitude=-33.8688, longitude=151.2093)),
        None,
        "📍 Location\n-33.868800, 151.209300\n"
        "https://www.google.com/maps/search/?api=1&query=-33.868800,151.209300",
        id="location-coordinates-only",
    ),
    pytest.param(
        message(MessageType.CONTACTS, contacts=(FULL_CARD,)),
        None,
        "👤 Contact: Ana Example\nExample Corp — Buyer\n"
        "📞 +1 555 0100 0002 (Cell, on WhatsApp)\n📞 +1 555 0100 0003 (Work)\n"
        "✉️ ana@example.com (Home)\n🔗 https://example.com/ana\n"
        "🏠 1 Example St, Springfield, 00000, US (Home)\n🎂 1990-01-31",
        id="contact-full-card",
    ),
    pytest.param(
        message(
            MessageType.CONTACTS,
            contacts=(
                ContactCard(formatted_name="", first_name="Bo", last_name="Test"),
                ContactCard(formatted_name=""),
            ),
        ),
        None,
        "👤 Contact: Bo Test\n\n👤 Contact: no name given",
        id="contacts-two-cards",
    ),
    pytest.param(
        message(MessageType.REACTION, reaction=Reaction(message_id="wamid.PREV", emoji="👍")),
        "Your refund was sent",
        "reacted 👍 to: «Your refund was sent»",
        id="reaction-quoted",
    ),
    pytest.param(
        message(MessageType.REACTION, reaction=Reaction(message_id="wamid.PREV", emoji="❤️")),
        None,
        "reacted ❤️ to an earlier message",
        id="reaction-unknown-target",
    ),
    pytest.param(
        message(MessageType.REACTION, reaction=Reaction(message_id="wamid.PREV")),
        "Your refund was sent",
        "removed their reaction to: «Your refund was sent»",
        id="reaction-removed-quoted",
    ),
    pytest.param(
        message(MessageType.REACTION, reaction=Reaction(message_id="wamid.PREV")),
        None,
        "removed their reaction to an earlier message",
        id="reaction-removed",
    ),
    pytest.param(
        message(
            MessageType.INTERACTIVE,
            reply=Reply(kind="button_reply", reply_id="yes-1", title="Yes, please"),
        ),
        None,
        "Yes, please",
        id="button-reply",
    ),
    pytest.param(
        message(
            MessageType.INTERACTIVE,
            reply=Reply(
                kind="list_reply", reply_id="s2", title="Tuesday", description="10:00 – 12:00"
            ),
        ),
        None,
        "Tuesday — 10:00 – 12:00",
        id="list-reply",
    ),
    pytest.param(
        message(
            MessageType.INTERACTIVE,
            reply=Reply(
                kind="nfm_reply",
                title="Sent",
                response={
                    "flow_token": "secret-token",
                    "full_name": "Ana Example",
                    "subscribe": True,
                    "topics": ["billing", "delivery"],
                    "address": {"city": "Springfield", "zip_code": ""},
                },
            ),
        ),
        None,
        "📝 Form answered: Sent\n• Full name: Ana Example\n• Subscribe: yes\n"
        "• Topics: billing, delivery\n• Address › City: Springfield\n• Address › Zip code: —",
        id="flow-reply",
    ),
    pytest.param(
        message(MessageType.INTERACTIVE, reply=Reply(kind="nfm_reply")),
        None,
        "📝 Form answered",
        id="flow-reply-empty",
    ),
    pytest.param(
        message(MessageType.BUTTON, reply=Reply(kind="button", reply_id="P1", title="Stop promos")),
        None,
        "Stop promos",
        id="template-quick-reply",
    ),
    pytest.param(
        message(MessageType.INTERACTIVE, reply=Reply(kind="payment_reply")),
        None,
        "⚠️ The customer answered with a “payment_reply” that carried no text, "
        "so it can't be shown here.",
        id="interactive-without-text",
    ),
    pytest.param(
        message(
            MessageType.ORDER,
            order=Order(
                catalog_id="CAT1",
                text="Please gift wrap",
                items=(
                    OrderItem(
                        product_retailer_id="SKU-1", quantity=3, item_price=0.1, currency="EUR"
                    ),
                    OrderItem(
                        product_retailer_id="SKU-2", quantity=1, item_price=12.5, currency="EUR"
                    ),
                ),
            ),
        ),
        None,
        "🛒 Order\n• SKU-1 × 3 @ 0.10 EUR\n• SKU-2 × 1 @ 12.50 EUR\nTotal: 12.80 EUR\n"
        "Please gift wrap",
        id="order",
    ),
    pytest.param(
        message(
            MessageType.ORDER,
            order=Order(
                catalog_id="CAT1",
                items=(
                    OrderItem(product_retailer_id="A", quantity=2, item_price=5, currency="USD"),
                    OrderItem(product_retailer_id="B", quantity=1, item_price=700, currency="JPY"),
                ),
            ),
        ),
        None,
        "🛒 Order\n• A × 2 @ 5.00 USD\n• B × 1 @ 700.00 JPY\nTotal: 10.00 USD + 700.00 JPY",
        id="order-two-currencies",
    ),
    pytest.param(
        message(MessageType.ORDER, order=Order(catalog_id="CAT1")),
        None,
        "🛒 Order\n(no items)",
        id="order-empty",
    ),
    pytest.param(
        message(
            MessageType.SYSTEM,
            system=SystemNotice(
                body="User A changed from 15550100001 to 15550100009",
                kind="user_changed_number",
                new_wa_id="15550100009",
            ),
        ),
        None,
        "ℹ️ User A changed from 15550100001 to 15550100009",
        id="system-number-changed",
    ),
    pytest.param(
        message(
            MessageType.SYSTEM,
            system=SystemNotice(body="", kind="user_changed_number", new_wa_id="15550100009"),
        ),
        None,
        "ℹ️ The customer changed their WhatsApp number. New WhatsApp number: 15550100009.",
        id="system-number-changed-without-body",
    ),
    pytest.param(
        message(MessageType.SYSTEM, system=SystemNotice(body="", kind="customer_identity_changed")),
        None,
        "ℹ️ The customer's identity changed (for example a new phone or a reinstall).",
        id="system-identity-changed",
    ),
    pytest.param(
        message(MessageType.SYSTEM, system=SystemNotice(body="", kind="something_new")),
        None,
        "ℹ️ WhatsApp sent a notice about this customer (something_new).",
        id="system-unknown-kind",
    ),
    pytest.param(
        message(
            MessageType.UNSUPPORTED,
            errors=(
                WhatsAppError(
                    code=131051,
                    title="Message type unknown",
                    details="Message type is not supported",
                ),
            ),
        ),
        None,
        "⚠️ The customer sent a message of type “unsupported” (WhatsApp named it no further), "
        "which WhatsApp could not deliver to the business "
        "(Message type unknown: Message type is not supported, code 131051). "
        "Ask them to send it another way if it matters.",
        id="unsupported",
    ),
    pytest.param(
        message(MessageType.UNSUPPORTED),
        None,
        "⚠️ The customer sent a message of type “unsupported” (WhatsApp named it no further), "
        "which WhatsApp could not deliver to the business. "
        "Ask them to send it another way if it matters.",
        id="unsupported-without-errors",
    ),
    pytest.param(
        message(MessageType.UNKNOWN, wire_type="hologram"),
        None,
        "⚠️ The customer sent a message of type “hologram”, which can't be shown here. "
        "Ask them to send it another way if it matters.",
        id="unknown",
    ),
    pytest.param(
        message(MessageType.LOCATION),
        None,
        "⚠️ The customer sent a message of type “location”, which can't be shown here. "
        "Ask them to send it another way if it matters.",
        id="type-without-its-content",
    ),
    pytest.param(
        message(MessageType.IMAGE, media=Media(media_id="m1", caption="  The scratch  ")),
        None,
        "The scratch",
        id="media-caption",
    ),
    pytest.param(
        message(
            MessageType.DOCUMENT,
            media=Media(media_id="m1", caption="Invoice"),
            context=Context(forwarded=True),
        ),
        None,
        "↪ Forwarded\nInvoice",
        id="media-caption-forwarded",
    ),
    pytest.param(
        message(MessageType.AUDIO, media=Media(media_id="m1", voice=True)),
        None,
        "",
        id="media-without-caption",
    ),
    pytest.param(
        message(
            MessageType.IMAGE, media=Media(media_id="m1"), context=Context(message_id="wamid.P")
        ),
        "earlier",
        "",
        id="media-reply-without-caption",
    ),
]


@pytest.mark.parametrize(("msg", "quoted", "expected"), RENDERED)
def test_render_for_agent_shows_each_message_type_readably(
    msg: InboundMessage, quoted: str | None, expected: str
) -> None:
    assert render_for_agent(msg, quoted=quoted) == expected


MINIMAL_CONTENT: dict[MessageType, dict[str, Any]] = {
    MessageType.TEXT: {"text": "hi"},
    MessageType.LOCATION: {"location": Location(latitude=0.0, longitude=0.0)},
    MessageType.CONTACTS: {"contacts": (ContactCard(formatted_name=""),)},
    MessageType.INTERACTIVE: {"reply": Reply(kind="")},
    MessageType.BUTTON: {"reply": Reply(kind="button")},
    MessageType.REACTION: {"reaction": Reaction(message_id="wamid.P")},
    MessageType.ORDER: {"order": Order(catalog_id="")},
    MessageType.SYSTEM: {"system": SystemNotice(body="")},
}


@pytest.mark.parametrize("kind", [k for k in MessageType if not k.has_media])
@pytest.mark.parametrize("with_content", [True, False], ids=["minimal-content", "no-content"])
def test_every_non_media_message_type_gives_the_agent_some_text(
    kind: MessageType, with_content: bool
) -> None:
    fields = MINIMAL_CONTENT.get(kind, {}) if with_content else {}
    assert render_for_agent(message(kind, **fields)).strip()


def test_snippet_keeps_short_text_and_flattens_lines() -> None:
    assert snippet("Line one\nline two") == "Line one line two"


def test_snippet_of_long_text_stays_near_eighty_characters_and_ends_in_ellipsis() -> None:
    shortened = snippet(LONG_QUOTE)
    assert len(shortened) <= 80
    assert shortened.endswith("…")
    assert LONG_QUOTE.startswith(shortened.removesuffix("…"))


@pytest.mark.parametrize(
    ("args", "link", "expected"),
    [
        (
            (
                "video",
                "holiday.mov",
                "video/quicktime",
                45 * 1024 * 1024,
                "it is larger than the 20 MB Connect accepts.",
            ),
            "https://media.example/holiday.mov?sig=x",
            "📎 The customer's video “holiday.mov” (video/quicktime, 45 MB) could not be "
            "attached: it is larger than the 20 MB Connect accepts.\n"
            "Download it while the link lasts: https://media.example/holiday.mov?sig=x",
        ),
        (
            ("document", "", "application/x-msdownload", 1536, "this type of file is refused"),
            "",
            "📎 The customer's document (application/x-msdownload, 1.5 KB) could not be "
            "attached: this type of file is refused.",
        ),
        (
            ("voice", "note.ogg", "", None, ""),
            "",
            "📎 The customer's voice note “note.ogg” could not be attached.",
        ),
        (
            ("hologram", "x.bin", "application/octet-stream", 1, "unknown kind"),
            "",
            "📎 The customer's file “x.bin” (application/octet-stream, 1 byte) could not be "
            "attached: unknown kind.",
        ),
    ],
    ids=["too-large-with-link", "refused-type-no-name", "no-facts-no-reason", "unknown-kind"],
)
def test_media_notice_names_the_file_its_type_size_and_why(
    args: tuple[str, str, str, int | None, str], link: str, expected: str
) -> None:
    assert render_media_notice(*args, link=link) == expected


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "1.5 KB"),
        (20 * 1024 * 1024, "20 MB"),
        (int(2.25 * 1024**3), "2.2 GB"),
        (3 * 1024**4, "3 TB"),
    ],
)
def test_human_size_reads_like_a_person_would_say_it(size: int, expected: str) -> None:
    assert human_size(size) == expected


def test_transcript_is_marked_as_spoken() -> None:
    assert render_transcript(" I need help with my bill ") == "🔊 I need help with my bill"


def test_empty_transcript_still_tells_the_agent_what_happened() -> None:
    assert render_transcript("  ") == "🔊 (no words recognised in the voice note)"
