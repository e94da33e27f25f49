"""One bad message never costs the others; every message that can be named reaches the agent.

Also: each End User Messaging change is answered from its own number, ad referrals and flow
answers survive parsing, and reader reasons say what was wrong.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waconnect.domain.render import render_for_agent
from waconnect.domain.whatsapp import InboundMessage, MessageType
from waconnect.errors import MalformedPayload
from waconnect.wire.inbound import parse_whatsapp_document

EVENTS = Path(__file__).resolve().parents[1] / "events"
MSG = "entry[0].changes[0].value.messages"
ARN = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/"
WABA_ARN = "arn:aws:social-messaging:us-east-1:123456789012:waba/"


def load(folder: str, name: str) -> Any:
    return json.loads((EVENTS / folder / f"{name}.json").read_text())


def message(wamid: str, wa_id: str = "15550100001", **body: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": "1764000002"}
    found.update(body or {"type": "text", "text": {"body": f"hello from {wamid}"}})
    return found


def value(phone_number_id: str, *messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
        "messages": list(messages),
        **extra,
    }


def webhook(*values: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "200000000000001",
                "changes": [{"field": "messages", "value": v} for v in values],
            }
        ],
    }


def only(messages: tuple[InboundMessage, ...], wamid: str) -> InboundMessage:
    (found,) = [m for m in messages if m.wamid == wamid]
    return found


# ---- 1. several numbers in one End User Messaging notification -----------------------------


def two_number_notification() -> dict[str, Any]:
    entry = webhook(
        value("100000000000001", message("wamid.ONE==")),
        value("100000000000002", message("wamid.TWO==")),
    )["entry"][0]
    return {
        "context": {
            "MetaWabaIds": [
                {"wabaId": "200000000000009", "arn": f"{WABA_ARN}99"},
                {"wabaId": "200000000000001", "arn": f"{WABA_ARN}11"},
            ],
            "MetaPhoneNumberIds": [
                {"metaPhoneNumberId": "100000000000001", "arn": f"{ARN}" + "1" * 32},
                {"metaPhoneNumberId": "100000000000002", "arn": f"{ARN}" + "2" * 32},
            ],
        },
        "whatsAppWebhookEntry": json.dumps(entry),
        "aws_account_id": "123456789012",
        "message_timestamp": "2026-11-24T10:15:30.123456789Z",
    }


def test_each_change_of_an_eum_notification_gets_its_own_phone_number_and_the_entrys_waba() -> None:
    batch = parse_whatsapp_document(two_number_notification())

    one, two = only(batch.messages, "wamid.ONE=="), only(batch.messages, "wamid.TWO==")
    assert one.business.meta_phone_number_id == "100000000000001"
    assert one.business.aws_phone_number_id == "phone-number-id-" + "1" * 32
    assert two.business.meta_phone_number_id == "100000000000002"
    assert two.business.aws_phone_number_id == "phone-number-id-" + "2" * 32
    assert {one.business.waba_id, two.business.waba_id} == {"200000000000001"}


def test_a_change_for_a_number_the_context_does_not_list_gets_no_eum_id() -> None:
    doc = two_number_notification()
    doc["context"]["MetaPhoneNumberIds"].pop()

    batch = parse_whatsapp_document(doc)

    assert only(batch.messages, "wamid.TWO==").business.aws_phone_number_id == ""
    assert only(batch.messages, "wamid.ONE==").business.aws_phone_number_id.endswith("1" * 32)


# ---- 3. tolerance per message ---------------------------------------------------------------


def test_a_malformed_body_becomes_an_unknown_message_and_the_others_still_arrive() -> None:
    bad = message("wamid.BAD==", "15550100002", type="location", location={"latitude": None})
    doc = webhook(value("100000000000001", message("wamid.A=="), bad, message("wamid.C==")))

    batch = parse_whatsapp_document(doc)

    assert [m.wamid for m in batch.messages] == ["wamid.A==", "wamid.BAD==", "wamid.C=="]
    unread = only(batch.messages, "wamid.BAD==")
    assert (unread.type, unread.wire_type) == (MessageType.UNKNOWN, "location")
    assert unread.customer.wa_id == "15550100002"
    assert unread.unreadable == "location.latitude: expected a number, got null"
    assert render_for_agent(unread) == (
        "⚠️ The customer sent a location message that could not be read: "
        "location.latitude: expected a number, got null"
    )
    assert only(batch.messages, "wamid.C==").text == "hello from wamid.C=="
    assert batch.unreadable == ()


def test_a_message_with_unreadable_ids_is_left_out_and_named_while_the_rest_arrives() -> None:
    no_time = message("wamid.BAD==", timestamp="soon")
    no_id = {"from": "15550100003", "timestamp": "1764000002", "type": "text"}
    not_an_object = "a message"
    doc = webhook(value("100000000000001", no_time, message("wamid.OK=="), no_id, not_an_object))

    batch = parse_whatsapp_document(doc)

    assert [m.wamid for m in batch.messages] == ["wamid.OK=="]
    assert batch.unreadable == (
        f"meta: {MSG}[0].timestamp: expected an integer, got a non-numeric string",
        f"meta: {MSG}[2].id: required field is missing",
        f"meta: {MSG}[3]: expected an object, got a string",
    )


def test_an_unreadable_status_is_left_out_without_blocking_messages_or_other_statuses() -> None:
    good = {"id": "wamid.OUT1==", "status": "read", "timestamp": "1764000003"}
    bad = {"id": "wamid.OUT2==", "status": "failed", "timestamp": "1764000003",
           "errors": [{"code": "not a number"}]}  # fmt: skip
    doc = webhook(value("100000000000001", message("wamid.IN=="), statuses=[bad, good]))

    batch = parse_whatsapp_document(doc)

    assert [m.wamid for m in batch.messages] == ["wamid.IN=="]
    assert [s.wamid for s in batch.statuses] == ["wamid.OUT1=="]
    (reason,) = batch.unreadable
    assert reason.startswith("meta: entry[0].changes[0].value.statuses[0].errors[0].code: ")


def test_unreadable_contacts_cost_only_the_profile_name() -> None:
    doc = webhook(value("100000000000001", message("wamid.A=="), contacts="Ana"))

    (found,) = parse_whatsapp_document(doc).messages

    assert (found.customer.wa_id, found.customer.name, found.text) == (
        "15550100001",
        "",
        "hello from wamid.A==",
    )


def test_unreadable_items_in_each_lambda_record_are_all_kept() -> None:
    doc = load("unreadable", "lambda_audio_missing_id")

    batch = parse_whatsapp_document(doc)

    audio = [m for m in batch.messages if m.wire_type == "audio"]
    assert len(audio) == 1
    assert audio[0].unreadable == "audio.id: required field is missing"
    assert len(batch.messages) >= 2


@pytest.mark.parametrize(
    ("fixture", "wire_type", "problem"),
    [
        ("meta_image_missing_id", "image", "image.id: required field is missing"),
        ("meta_text_body_number", "text", "text.body: expected a string, got a number"),
        (
            "meta_location_latitude_text",
            "location",
            "location.latitude: expected a number, got a non-numeric string",
        ),
    ],
)
def test_unreadable_fixtures_reach_the_agent_as_a_notice(
    fixture: str, wire_type: str, problem: str
) -> None:
    (found,) = parse_whatsapp_document(load("unreadable", fixture)).messages

    assert (found.type, found.wire_type, found.unreadable) == (
        MessageType.UNKNOWN,
        wire_type,
        problem,
    )
    first, *held = render_for_agent(found).splitlines()
    assert first.endswith(f"could not be read: {problem}")
    # What the body still held is listed, so nothing the customer wrote is lost.
    assert held == (["What it held:", *(f"• {item}" for item in found.salvaged)] if held else [])


@pytest.mark.parametrize(
    "doc",
    [
        {"object": "whatsapp_business_account", "entry": [{"id": "1"}]},
        {"object": "whatsapp_business_account", "entry": "none"},
        webhook({"messaging_product": "whatsapp", "messages": []}),
        webhook(value("100000000000001", message("wamid.A=="))) | {"object": "page"},
    ],
    ids=["changes missing", "entry not a list", "metadata missing", "wrong object"],
)
def test_document_level_faults_still_reject_the_whole_document(doc: dict[str, Any]) -> None:
    with pytest.raises(MalformedPayload):
        parse_whatsapp_document(doc)


BASE = webhook(
    value(
        "100000000000001",
        message("wamid.A=="),
        message("wamid.B==", type="image", image={"id": "1234", "mime_type": "image/jpeg"}),
        message("wamid.C==", type="location", location={"latitude": 1.5, "longitude": 2.5}),
    )
)
garbage = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    victim=st.integers(min_value=0, max_value=2),
    key=st.sampled_from(
        ["id", "from", "timestamp", "type", "text", "image", "location", "context"]
    ),
    replacement=garbage,
)
def test_garbage_in_one_message_never_costs_another(
    victim: int, key: str, replacement: Any
) -> None:
    doc = copy.deepcopy(BASE)
    messages = doc["entry"][0]["changes"][0]["value"]["messages"]
    wamids = [m["id"] for m in messages]
    messages[victim][key] = replacement

    batch = parse_whatsapp_document(doc)

    others = [w for i, w in enumerate(wamids) if i != victim]
    assert [m.wamid for m in batch.messages if m.wamid in others] == others
    # The victim is either a message the agent can see or a named reason, never silently gone.
    assert len(batch.messages) + len(batch.unreadable) == 3
    assert all(render_for_agent(m) or m.has_media for m in batch.messages)


# ---- 4. Click-to-WhatsApp referral ----------------------------------------------------------


def test_an_ad_referral_is_parsed_and_shown_to_the_agent_above_the_text() -> None:
    referral = {
        "source_url": "https://fb.me/example-ad",
        "source_id": "120000000000001",
        "source_type": "ad",
        "headline": "Big sale",
        "body": "50% off",
        "media_type": "image",
        "image_url": "https://example.com/ad.jpg",
        "ctwa_clid": "clid-example",
    }
    doc = webhook(value("100000000000001", message("wamid.A==") | {"referral": referral}))

    (found,) = parse_whatsapp_document(doc).messages

    assert found.referral is not None
    assert (found.referral.source_id, found.referral.media_type, found.referral.ctwa_clid) == (
        "120000000000001",
        "image",
        "clid-example",
    )
    assert render_for_agent(found) == (
        "📣 From an ad: «Big sale» — https://fb.me/example-ad\n50% off\nhello from wamid.A=="
    )


def test_a_photo_from_a_post_without_caption_still_says_where_it_came_from() -> None:
    photo = message(
        "wamid.P==",
        type="image",
        image={"id": "1234", "mime_type": "image/jpeg"},
        referral={"source_type": "post", "source_url": "https://fb.me/example-post"},
    )

    (found,) = parse_whatsapp_document(webhook(value("100000000000001", photo))).messages

    assert render_for_agent(found) == "📣 From a post — https://fb.me/example-post"


# ---- 5. flow answers ------------------------------------------------------------------------


def flow(response_json: Any) -> InboundMessage:
    body = message(
        "wamid.F==",
        type="interactive",
        interactive={
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": response_json},
        },
    )
    (found,) = parse_whatsapp_document(webhook(value("100000000000001", body))).messages
    return found


@pytest.mark.parametrize(
    ("response_json", "shown"),
    [
        ('{"name": "Ana", "rating": ', '{"name": "Ana", "rating":'),
        ("[1,2,3]", "[1,2,3]"),
        ("just words", "just words"),
    ],
    ids=["invalid JSON", "an array", "plain text"],
)
def test_flow_answers_that_are_not_an_object_reach_the_agent_as_text(
    response_json: str, shown: str
) -> None:
    found = flow(response_json)

    assert found.reply is not None
    assert found.reply.response_text == response_json
    assert render_for_agent(found) == f"📝 Form answered: Sent\n{shown}"


def test_long_raw_flow_answers_are_shortened() -> None:
    rendered = render_for_agent(flow("word " * 400))

    assert rendered.endswith("…")
    assert len(rendered) < 600


def test_nested_flow_values_render_as_compact_json_not_python() -> None:
    found = flow(json.dumps({"a": {"b": [1, {"e": "é", "f": True}]}, "ok": [True, None]}))

    assert render_for_agent(found) == (
        '📝 Form answered: Sent\n• A › B: 1, {"e":"é","f":true}\n• Ok: yes, —'
    )


# ---- 6. reader reasons ----------------------------------------------------------------------


def test_deeply_nested_json_is_said_to_be_nested_too_deeply() -> None:
    deep = '{"object": ' + "[" * 100_000 + "]" * 100_000 + "}"

    with pytest.raises(MalformedPayload) as caught:
        parse_whatsapp_document(deep)

    assert (caught.value.path, caught.value.reason) == ("$", "JSON nested too deeply")


def test_a_null_required_field_says_null_not_missing() -> None:
    doc = webhook(value("100000000000001", message("wamid.N==", type="text", text={"body": None})))

    (found,) = parse_whatsapp_document(doc).messages

    assert found.unreadable == "text.body: expected a string, got null"
