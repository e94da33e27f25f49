"""WhatsApp's customer service window and message statuses, as the EUM emulator reports them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulators.conftest import NO_RETRY, WAIT_SECONDS
from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.delivery import WINDOW_REASON, WINDOW_SECONDS

ANA = Customer(wa_id="15550100401", name="Ana")
FOX = Customer(wa_id="", user_id="US.5550100402", name="Fox")
OTHER_BUSINESS = "100000000000777"


@pytest.fixture
def quiet_cloud() -> Iterator[Cloud]:
    with Cloud(statuses=False) as started:
        yield started


def _send(cloud: Cloud, body: dict[str, Any], origination: str = defaults.PHONE_NUMBER_ARN) -> str:
    client = cloud.client("socialmessaging", **NO_RETRY)
    sent = client.send_whatsapp_message(
        originationPhoneNumberId=origination,
        message=json.dumps({"messaging_product": "whatsapp", **body}).encode(),
        metaApiVersion="v20.0",
    )
    return str(sent["messageId"])


def _text(to: str, text: str = "Hello from the agent") -> dict[str, Any]:
    return {"to": to, "type": "text", "text": {"body": text}}


def _statuses(cloud: Cloud) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every status published on the inbound topic, with the EUM notification carrying it."""
    assert cloud.settle(WAIT_SECONDS)
    found = []
    for text in cloud.inbound_topic.delivered:
        notification = json.loads(json.loads(text)["Message"])
        entry = json.loads(notification["whatsAppWebhookEntry"])
        for change in entry["changes"]:
            for status in change["value"].get("statuses", ()):
                found.append((status, notification))
    return found


def _statuses_of(cloud: Cloud, wamid: str) -> list[dict[str, Any]]:
    return [status for status, _ in _statuses(cloud) if status["id"] == wamid]


def _written_long_ago(cloud: Cloud, customer: Customer = ANA) -> None:
    cloud.customer_sends(customer, {"type": "text", "text": {"body": "hi"}})
    cloud.clock.advance(WINDOW_SECONDS + 1)


def test_free_form_text_outside_the_window_gets_a_message_id_but_is_not_delivered(
    fresh_cloud: Cloud,
) -> None:
    _written_long_ago(fresh_cloud)
    seq = fresh_cloud.journal.seq

    wamid = _send(fresh_cloud, _text(ANA.wa_id))

    assert wamid.startswith("wamid.")
    assert fresh_cloud.journal.since(seq) == [
        {"to": "system", "kind": "failed", "customer": ANA.wa_id, "reason": WINDOW_REASON}
    ]
    assert fresh_cloud.received_messages(ANA.identity) == []
    assert fresh_cloud.message_status(wamid) == "failed"


def test_a_message_outside_the_window_reports_failed_131047_as_an_eum_notification(
    fresh_cloud: Cloud,
) -> None:
    _written_long_ago(fresh_cloud)
    before = int(fresh_cloud.clock.now())
    wamid = _send(fresh_cloud, _text(ANA.wa_id))

    ((status, notification),) = [
        (status, notification)
        for status, notification in _statuses(fresh_cloud)
        if status["id"] == wamid
    ]
    assert {key: status[key] for key in ("id", "status", "recipient_id")} == {
        "id": wamid,
        "status": "failed",
        "recipient_id": ANA.wa_id,
    }
    assert before <= int(status["timestamp"]) <= fresh_cloud.clock.now()
    (error,) = status["errors"]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert "24 hours" in error["error_data"]["details"]
    assert notification["context"]["MetaPhoneNumberIds"][0]["arn"] == defaults.PHONE_NUMBER_ARN
    entry = json.loads(notification["whatsAppWebhookEntry"])
    assert entry["changes"][0]["field"] == "messages"
    assert entry["changes"][0]["value"]["metadata"]["phone_number_id"] == (
        defaults.META_PHONE_NUMBER_ID
    )


def test_every_free_form_kind_fails_outside_the_window_but_a_template_is_delivered(
    fresh_cloud: Cloud,
) -> None:
    inbound = fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    fresh_cloud.clock.advance(WINDOW_SECONDS + 60)
    seq = fresh_cloud.journal.seq
    free_form = [
        _text(ANA.wa_id),
        {"to": ANA.wa_id, "type": "reaction", "reaction": {"message_id": inbound, "emoji": "👍"}},
        {"to": ANA.wa_id, "type": "location", "location": {"latitude": 1.5, "longitude": 2.5}},
    ]
    for body in free_form:
        _send(fresh_cloud, body)
    template = {"to": ANA.wa_id, "type": "template",
                "template": {"name": "follow_up", "language": {"code": "en_US"}}}  # fmt: skip
    template_wamid = _send(fresh_cloud, template)

    assert [(e["to"], e["kind"]) for e in fresh_cloud.journal.since(seq)] == [
        ("system", "failed"),
        ("system", "failed"),
        ("system", "failed"),
        ("customer", "template"),
    ]
    assert fresh_cloud.message_status(template_wamid) == "delivered"


def test_read_receipts_and_typing_outside_the_window_still_reach_the_customer(
    fresh_cloud: Cloud,
) -> None:
    inbound = fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    fresh_cloud.clock.advance(WINDOW_SECONDS * 2)
    seq = fresh_cloud.journal.seq

    _send(fresh_cloud, {"status": "read", "message_id": inbound})
    _send(fresh_cloud, {"status": "read", "message_id": inbound,
                        "typing_indicator": {"type": "text"}})  # fmt: skip

    assert [(e["to"], e["kind"], e["reply_to"]) for e in fresh_cloud.journal.since(seq)] == [
        ("customer", "read", inbound),
        ("customer", "typing", inbound),
    ]
    assert [s for s, _ in _statuses(fresh_cloud) if s["status"] == "failed"] == []


def test_a_text_at_exactly_24_hours_is_still_inside_the_window() -> None:
    # A clock that moves only when advanced: on a busy machine a ticking one passes the edge.
    with Cloud(clock=SandboxClock(1_768_469_400.0, ticking=False)) as cloud:
        cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
        cloud.clock.advance(WINDOW_SECONDS)

        wamid = _send(cloud, _text(ANA.wa_id, "just in time"))

        assert cloud.message_status(wamid) == "delivered"
        assert cloud.received_messages(ANA.identity) == [
            {"messaging_product": "whatsapp", **_text(ANA.wa_id, "just in time")}
        ]


def test_a_new_customer_message_reopens_the_window(fresh_cloud: Cloud) -> None:
    _written_long_ago(fresh_cloud)
    assert fresh_cloud.message_status(_send(fresh_cloud, _text(ANA.wa_id))) == "failed"

    fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "still there?"}})

    assert fresh_cloud.message_status(_send(fresh_cloud, _text(ANA.wa_id))) == "delivered"


def test_the_window_is_kept_per_business_number(fresh_cloud: Cloud) -> None:
    _written_long_ago(fresh_cloud)
    fresh_cloud.customer_sends(
        ANA, {"type": "text", "text": {"body": "hi other"}}, business=OTHER_BUSINESS
    )
    other = next(n for n in fresh_cloud.whatsapp_view.numbers() if n.meta_id == OTHER_BUSINESS)

    from_default = _send(fresh_cloud, _text(ANA.wa_id))
    from_other = _send(fresh_cloud, _text(ANA.wa_id), origination=other.arn)

    assert fresh_cloud.message_status(from_default) == "failed"
    assert fresh_cloud.message_status(from_other) == "delivered"


def test_a_customer_the_emulator_never_carried_a_message_from_is_delivered(
    fresh_cloud: Cloud,
) -> None:
    fresh_cloud.clock.advance(WINDOW_SECONDS * 3)

    wamid = _send(fresh_cloud, _text("15550100499"))

    assert fresh_cloud.message_status(wamid) == "delivered"


def test_a_delivered_message_reports_sent_and_delivered_statuses(fresh_cloud: Cloud) -> None:
    fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    before = int(fresh_cloud.clock.now())

    wamid = _send(fresh_cloud, _text(ANA.wa_id))

    statuses = _statuses_of(fresh_cloud, wamid)
    assert sorted(s["status"] for s in statuses) == ["delivered", "sent"]
    for status in statuses:
        assert set(status) == {"id", "status", "timestamp", "recipient_id"}
        assert status["recipient_id"] == ANA.wa_id
        assert before <= int(status["timestamp"]) <= fresh_cloud.clock.now()


def test_a_reaction_reports_only_sent_and_cannot_be_read(fresh_cloud: Cloud) -> None:
    inbound = fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    reaction = {"to": ANA.wa_id, "type": "reaction",
                "reaction": {"message_id": inbound, "emoji": "📎"}}  # fmt: skip

    wamid = _send(fresh_cloud, reaction)

    assert [s["status"] for s in _statuses_of(fresh_cloud, wamid)] == ["sent"]
    with pytest.raises(ValueError, match="cannot be read"):
        fresh_cloud.customer_reads(wamid)


def test_read_receipts_sent_by_the_business_report_no_statuses(fresh_cloud: Cloud) -> None:
    inbound = fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})

    receipt = _send(fresh_cloud, {"status": "read", "message_id": inbound})

    assert _statuses_of(fresh_cloud, receipt) == []
    assert fresh_cloud.message_status(receipt) is None


def test_customer_reads_reports_read_once(fresh_cloud: Cloud) -> None:
    fresh_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    wamid = _send(fresh_cloud, _text(ANA.wa_id))

    fresh_cloud.customer_reads(wamid)
    fresh_cloud.customer_reads(wamid)

    assert sorted(s["status"] for s in _statuses_of(fresh_cloud, wamid)) == [
        "delivered",
        "read",
        "sent",
    ]
    assert fresh_cloud.message_status(wamid) == "read"


def test_customer_reads_refuses_a_message_that_failed_or_was_never_sent(
    fresh_cloud: Cloud,
) -> None:
    _written_long_ago(fresh_cloud)
    failed = _send(fresh_cloud, _text(ANA.wa_id))

    with pytest.raises(ValueError, match="cannot be read"):
        fresh_cloud.customer_reads(failed)
    with pytest.raises(ValueError, match="no message"):
        fresh_cloud.customer_reads("wamid.NEVERSENT")


def test_statuses_of_a_bsuid_customer_name_the_recipient_user_id(fresh_cloud: Cloud) -> None:
    fresh_cloud.customer_sends(FOX, {"type": "text", "text": {"body": "hi"}})

    wamid = _send(fresh_cloud, {"recipient": FOX.user_id, "type": "text",
                                "text": {"body": "Hello Fox"}})  # fmt: skip
    fresh_cloud.customer_reads(wamid)

    statuses = _statuses_of(fresh_cloud, wamid)
    assert sorted(s["status"] for s in statuses) == ["delivered", "read", "sent"]
    for status in statuses:
        assert (status["recipient_id"], status["recipient_user_id"]) == ("", FOX.user_id)


def test_a_bsuid_customer_outside_the_window_fails_with_their_user_id(
    fresh_cloud: Cloud,
) -> None:
    _written_long_ago(fresh_cloud, FOX)
    seq = fresh_cloud.journal.seq

    wamid = _send(fresh_cloud, {"recipient": FOX.user_id, "type": "text",
                                "text": {"body": "late"}})  # fmt: skip

    (status,) = _statuses_of(fresh_cloud, wamid)
    assert (status["status"], status["recipient_user_id"]) == ("failed", FOX.user_id)
    assert fresh_cloud.journal.since(seq) == [
        {"to": "system", "kind": "failed", "customer": FOX.user_id, "reason": WINDOW_REASON}
    ]


def test_with_statuses_off_only_failures_are_published(quiet_cloud: Cloud) -> None:
    quiet_cloud.customer_sends(ANA, {"type": "text", "text": {"body": "hi"}})
    delivered = _send(quiet_cloud, _text(ANA.wa_id))
    quiet_cloud.customer_reads(delivered)
    quiet_cloud.clock.advance(WINDOW_SECONDS + 1)

    failed = _send(quiet_cloud, _text(ANA.wa_id))

    assert [(s["id"], s["status"]) for s, _ in _statuses(quiet_cloud)] == [(failed, "failed")]
    assert quiet_cloud.message_status(delivered) == "read"
