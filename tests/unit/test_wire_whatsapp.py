"""Every WhatsApp fixture parses to the domain values it carries, in every wrapping."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from waconnect.domain.whatsapp import MessageType, StatusKind
from waconnect.wire.eum import build_eum_notification, format_timestamp_ns, parse_eum_notification
from waconnect.wire.inbound import classify, detect_form, parse_whatsapp_document
from waconnect.wire.meta_webhook import parse_entry, parse_meta_webhook
from waconnect.wire.sns import SnsSubscriptionMessage, build_http_envelope, build_lambda_event

EVENTS = Path(__file__).resolve().parents[1] / "events"
BIZ_ID = "100000000000001"
AWS_ID = "phone-number-id-0123456789abcdef0123456789abcdef"
CUSTOMER = "15550100001"
BSUID = "US.13491208655302741918"


def load(source: str, scenario: str) -> dict[str, Any]:
    return json.loads((EVENTS / source / f"{scenario}.json").read_text())


def pick(obj: Any, path: str) -> Any:
    """``messages[0].media.caption`` on the parsed batch."""
    for part in path.split("."):
        match = re.fullmatch(r"(\w+)((?:\[\d+\])*)", part)
        assert match, path
        obj = getattr(obj, match.group(1))
        for index in re.findall(r"\[(\d+)\]", match.group(2)):
            obj = obj[int(index)]
    return obj


W0 = "wamid.HBgLMTU1NTAxMDAwMDEVAgASGBQzQUZBS0UwMDAwMDAwMDAwMDAw"

META_CASES: dict[str, dict[str, Any]] = {
    "text": {
        "messages[0].type": MessageType.TEXT,
        "messages[0].text": "Hello, I need help with my order 🙂",
        "messages[0].customer.name": "Ana Example",
        "messages[0].timestamp": 1764000001,
    },
    "image_caption": {
        "messages[0].type": MessageType.IMAGE,
        "messages[0].media.media_id": "1001000000000001",
        "messages[0].media.caption": "The receipt",
        "messages[0].media.mime_type": "image/jpeg",
    },
    "video": {"messages[0].type": MessageType.VIDEO, "messages[0].media.mime_type": "video/mp4"},
    "audio_voice": {
        "messages[0].type": MessageType.AUDIO,
        "messages[0].media.voice": True,
        "messages[0].media.mime_type": "audio/ogg; codecs=opus",
    },
    "document_filename": {
        "messages[0].type": MessageType.DOCUMENT,
        "messages[0].media.filename": "contract-2026.pdf",
        "messages[0].media.caption": "Signed contract",
    },
    "sticker_static": {
        "messages[0].type": MessageType.STICKER,
        "messages[0].media.animated": False,
    },
    "sticker_animated": {
        "messages[0].type": MessageType.STICKER,
        "messages[0].media.animated": True,
    },
    "location": {
        "messages[0].location.latitude": 38.7223,
        "messages[0].location.longitude": -9.1393,
        "messages[0].location.name": "Example Store",
        "messages[0].location.address": "1 Example Square, Lisbon",
    },
    "contacts_full": {
        "messages[0].contacts[0].formatted_name": "Bea Example",
        "messages[0].contacts[0].phones[0].value": "+1 555 0100 0002",
        "messages[0].contacts[0].phones[0].wa_id": "15550100002",
        "messages[0].contacts[0].phones[1].label": "WORK",
        "messages[0].contacts[0].emails[0].value": "bea@example.com",
        "messages[0].contacts[0].addresses[0].value": (
            "1 Example Street, Springfield, IL, 62701, United States"
        ),
        "messages[0].contacts[0].organization": "Example Corp, Support",
        "messages[0].contacts[0].title": "Team lead",
        "messages[0].contacts[0].birthday": "1990-04-12",
        "messages[0].contacts[0].urls[0].value": "https://example.com/bea",
    },
    "interactive_button_reply": {
        "messages[0].reply.kind": "button_reply",
        "messages[0].reply.reply_id": "yes-callback",
        "messages[0].reply.title": "Yes, call me",
        "messages[0].is_reply": True,
    },
    "interactive_list_reply": {
        "messages[0].reply.kind": "list_reply",
        "messages[0].reply.title": "09:30",
        "messages[0].reply.description": "Tomorrow morning",
    },
    "interactive_nfm_reply": {
        "messages[0].reply.kind": "nfm_reply",
        "messages[0].reply.title": "Sent",
        "messages[0].reply.response": {
            "flow_token": "flow-token-0001",
            "rating": "5",
            "comment": "Quick and kind",
        },
    },
    "button_quick_reply": {
        "messages[0].type": MessageType.BUTTON,
        "messages[0].reply.kind": "button",
        "messages[0].reply.reply_id": "TALK_TO_AGENT",
        "messages[0].reply.title": "Talk to an agent",
    },
    "reaction": {
        "messages[0].reaction.emoji": "👍",
        "messages[0].reaction.removed": False,
        "messages[0].reaction.message_id": W0 + "94AA==",
    },
    "reaction_removed": {"messages[0].reaction.emoji": "", "messages[0].reaction.removed": True},
    "order": {
        "messages[0].order.catalog_id": "300000000000001",
        "messages[0].order.text": "Please deliver before noon",
        "messages[0].order.items[0].quantity": 2,
        "messages[0].order.items[1].quantity": 1,
        "messages[0].order.items[1].item_price": 12.0,
        "messages[0].order.items[1].product_retailer_id": "sku-mug-02",
    },
    "system_user_changed_number": {
        "messages[0].type": MessageType.SYSTEM,
        "messages[0].system.kind": "user_changed_number",
        "messages[0].system.new_wa_id": "15550100009",
    },
    "unsupported": {
        "messages[0].type": MessageType.UNSUPPORTED,
        "messages[0].errors[0].code": 131051,
        "messages[0].errors[0].details": "Message type is currently not supported.",
    },
    "unsupported_legacy_unknown": {
        "messages[0].type": MessageType.UNSUPPORTED,
        "messages[0].wire_type": "unknown",
        "messages[0].errors[0].code": 131051,
    },
    "unknown_future_type": {
        "messages[0].type": MessageType.UNKNOWN,
        "messages[0].wire_type": "hologram",
        "messages[0].has_media": False,
    },
    "reply_context": {
        "messages[0].is_reply": True,
        "messages[0].context.message_id": W0 + "95AA==",
        "messages[0].context.from_": "15550000000",
        "messages[0].is_forwarded": False,
    },
    "forwarded": {
        "messages[0].is_forwarded": True,
        "messages[0].is_reply": False,
        "messages[0].context.forwarded": True,
    },
    "frequently_forwarded": {
        "messages[0].is_forwarded": True,
        "messages[0].context.frequently_forwarded": True,
    },
    "bsuid_only": {
        "messages[0].customer.wa_id": "",
        "messages[0].customer.user_id": BSUID,
        "messages[0].customer.identity": BSUID,
        "messages[0].customer.name": "Quiet Fox",
    },
    "multi_entry": {
        "messages[1].customer.wa_id": "15550100002",
        "messages[1].customer.name": "Bo Example",
        "messages[2].text": "third",
        "statuses[0].status": StatusKind.DELIVERED,
        "statuses[0].business.meta_phone_number_id": "100000000000002",
        "statuses[0].business.waba_id": "200000000000002",
    },
    "unknown_extra_fields": {"messages[0].text": "extra fields everywhere"},
    "status_sent": {"statuses[0].status": StatusKind.SENT, "statuses[0].recipient_id": CUSTOMER},
    "status_delivered": {"statuses[0].status": StatusKind.DELIVERED},
    "status_read": {"statuses[0].status": StatusKind.READ, "statuses[0].timestamp": 1764000000},
    "status_played": {"statuses[0].status": StatusKind.PLAYED},
    "status_warning": {"statuses[0].status": StatusKind.WARNING},
    "status_failed_131047": {
        "statuses[0].status": StatusKind.FAILED,
        "statuses[0].errors[0].code": 131047,
        "statuses[0].errors[0].title": "Re-engagement message",
    },
    "status_bsuid": {"statuses[0].recipient_user_id": BSUID, "statuses[0].recipient_id": ""},
}

# How many messages and statuses each fixture holds, where it is not exactly one.
COUNTS = {"multi_entry": (3, 1)}


def meta_scenarios() -> list[str]:
    return sorted(p.stem for p in (EVENTS / "meta").glob("*.json"))


def test_every_meta_fixture_has_expectations() -> None:
    assert set(meta_scenarios()) == set(META_CASES)


@pytest.mark.parametrize("scenario", sorted(META_CASES))
def test_meta_fixture_parses_to_its_domain_values(scenario: str) -> None:
    batch = parse_meta_webhook(load("meta", scenario))
    assert batch.source == "meta"
    for path, expected in META_CASES[scenario].items():
        assert pick(batch, path) == expected, path
    statuses = scenario.startswith("status_")
    messages, updates = COUNTS.get(scenario, (0, 1) if statuses else (1, 0))
    assert (len(batch.messages), len(batch.statuses)) == (messages, updates)
    for item in (*batch.messages, *batch.statuses):
        assert item.business.display_phone_number in ("15550000000", "15550000001")
        assert item.raw, "the raw wire object is kept"


@pytest.mark.parametrize("scenario", sorted(META_CASES))
def test_meta_fixture_parses_the_same_inside_sns_and_lambda(scenario: str) -> None:
    body = load("meta", scenario)
    envelope = build_http_envelope(
        json.dumps(body),
        {},
        topic_arn="arn:aws:sns:us-east-1:123456789012:t",
        message_id="m-1",
        timestamp="2026-11-24T10:00:00.000Z",
    )
    direct = parse_meta_webhook(body)
    for inside in (
        parse_whatsapp_document(envelope),
        parse_whatsapp_document(json.dumps(build_lambda_event([envelope]))),
    ):
        assert dataclasses.replace(inside, ignored=()) == dataclasses.replace(direct, ignored=())
        # The same parts ignored, at their place in the wrapping.
        assert [item[item.index("entry[") :] for item in inside.ignored] == list(direct.ignored)
    assert classify(envelope) == "whatsapp"


def test_messages_keep_the_order_of_the_document_across_entries() -> None:
    batch = parse_meta_webhook(load("meta", "multi_entry"))
    assert [m.text for m in batch.messages] == ["first", "second from Bo", "third"]
    assert [m.customer.wa_id for m in batch.messages] == [CUSTOMER, "15550100002", CUSTOMER]


def test_change_of_another_field_is_ignored_not_an_error() -> None:
    batch = parse_meta_webhook(load("meta", "multi_entry"))
    assert all(m.business.meta_phone_number_id == BIZ_ID for m in batch.messages)


def test_meta_business_number_has_no_aws_id() -> None:
    batch = parse_meta_webhook(load("meta", "text"))
    business = batch.messages[0].business
    assert (business.meta_phone_number_id, business.waba_id, business.aws_phone_number_id) == (
        BIZ_ID,
        "200000000000001",
        "",
    )


EUM_CASES: dict[str, dict[str, Any]] = {
    "text": {"messages[0].type": MessageType.TEXT},
    "image": {"messages[0].media.media_id": "1001000000000001"},
    "audio_voice": {"messages[0].media.voice": True},
    "document": {"messages[0].media.filename": "contract-2026.pdf"},
    "location": {"messages[0].location.name": "Example Store"},
    "sticker_animated": {"messages[0].media.animated": True},
    "status_failed": {"statuses[0].errors[0].code": 131047},
    "status_delivered": {"statuses[0].status": StatusKind.DELIVERED},
    "bsuid_only": {"messages[0].customer.identity": BSUID},
    "entry_as_object": {"messages[0].is_reply": True},
    "sns_envelope_image": {"messages[0].media.caption": "The receipt"},
    "lambda_two_records": {
        "messages[0].type": MessageType.TEXT,
        "messages[1].type": MessageType.AUDIO,
    },
}

FORMS = {"sns_envelope_image": "sns-envelope", "lambda_two_records": "lambda-sns"}


def test_every_eum_fixture_has_expectations() -> None:
    stems = {p.stem for p in (EVENTS / "eum").glob("*.json")}
    assert stems - set(EUM_CASES) == {"subscription_confirmation", "sns_envelope_meta_body"}


@pytest.mark.parametrize("scenario", sorted(EUM_CASES))
def test_eum_fixture_parses_with_aws_identifiers(scenario: str) -> None:
    doc = load("eum", scenario)
    assert detect_form(doc) == FORMS.get(scenario, "eum")
    batch = parse_whatsapp_document(doc)
    assert batch.source == "eum"
    for path, expected in EUM_CASES[scenario].items():
        assert pick(batch, path) == expected, path
    for item in (*batch.messages, *batch.statuses):
        assert item.business.meta_phone_number_id == BIZ_ID
        assert item.business.aws_phone_number_id == AWS_ID
        assert item.business.waba_id == "200000000000001"


def test_lambda_records_merge_in_order() -> None:
    batch = parse_whatsapp_document(load("eum", "lambda_two_records"))
    assert [m.wamid[-6:-4] for m in batch.messages] == ["01", "04"]


def test_meta_body_published_to_sns_parses_as_meta() -> None:
    batch = parse_whatsapp_document(load("eum", "sns_envelope_meta_body"))
    assert batch.source == "meta"
    assert batch.messages[0].location is not None


def test_subscription_confirmation_is_recognised_not_parsed() -> None:
    with pytest.raises(SnsSubscriptionMessage) as caught:
        parse_whatsapp_document(load("eum", "subscription_confirmation"))
    assert caught.value.kind == "SubscriptionConfirmation"
    assert caught.value.subscribe_url.startswith("https://sns.us-east-1.amazonaws.com/")
    assert caught.value.topic_arn.endswith(":waconnect-eum-inbound")


def test_eum_builder_round_trips_through_the_parser() -> None:
    entry = load("meta", "document_filename")["entry"][0]
    first = parse_entry(entry, source="meta").messages[0]
    notification = build_eum_notification(
        entry,
        business=first.business,
        phone_number_arn="arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/00ff",
        waba_arn="arn:aws:social-messaging:us-east-1:123456789012:waba/11ee",
        account_id="123456789012",
        timestamp_ns=1_764_000_000_123_456_789,
    )
    assert isinstance(notification["whatsAppWebhookEntry"], str)
    assert notification["message_timestamp"] == "2025-11-24T16:00:00.123456789Z"
    batch = parse_eum_notification(notification)
    assert batch.messages[0].business.aws_phone_number_id == "phone-number-id-00ff"
    assert batch.messages[0].media == first.media
    assert batch.messages[0].wamid == first.wamid


def test_eum_timestamp_keeps_nanoseconds() -> None:
    assert format_timestamp_ns(5) == "1970-01-01T00:00:00.000000005Z"


def test_unwrap_sns_yields_message_text_and_attributes_in_record_order() -> None:
    from waconnect.wire.sns import unwrap_sns

    records = unwrap_sns(json.dumps(load("eum", "lambda_two_records")))
    assert [r.path for r in records] == ["Records[0].Sns.Message", "Records[1].Sns.Message"]
    assert all(json.loads(r.message)["aws_account_id"] == "123456789012" for r in records)
    [connect] = unwrap_sns(
        (EVENTS / "connect" / "visibility_agent.json").read_bytes(), source="connect"
    )
    assert connect.attributes["MessageVisibility"] == "AGENT"
    assert connect.topic_arn.endswith(":waconnect-connect-streaming")
