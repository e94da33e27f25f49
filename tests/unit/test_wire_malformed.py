"""Malformed payloads raise MalformedPayload naming the source and the exact path of the fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waconnect.errors import MalformedPayload
from waconnect.wire.inbound import parse_connect_document, parse_whatsapp_document

EVENTS = Path(__file__).resolve().parents[1] / "events"
MSG = "entry[0].changes[0].value.messages[0]"

# scenario -> (parser, source, path, words in the reason)
CASES = {
    "not_json": ("whatsapp", "whatsapp", "$", "not valid JSON"),
    "top_level_array": ("whatsapp", "whatsapp", "$", "expected an object"),
    "unknown_shape": ("whatsapp", "whatsapp", "$", "unrecognised payload shape"),
    "meta_missing_metadata": ("whatsapp", "meta", "entry[0].changes[0].value.metadata", "missing"),
    "meta_entry_not_list": ("whatsapp", "meta", "entry", "expected an array"),
    "meta_wrong_object": ("whatsapp", "meta", "object", "whatsapp_business_account"),
    "eum_truncated_entry_string": ("whatsapp", "eum", "whatsAppWebhookEntry", "not valid JSON"),
    "eum_phone_number_without_arn": (
        "whatsapp",
        "eum",
        "context.MetaPhoneNumberIds[0].arn",
        "missing",
    ),
    "eum_entry_number": ("whatsapp", "eum", "whatsAppWebhookEntry", "expected an object"),
    "lambda_message_not_json": ("whatsapp", "sns", "Records[0].Sns.Message", "not valid JSON"),
    "connect_missing_id": ("connect", "connect", "Message.Id", "missing"),
    "connect_attachments_not_list": (
        "connect",
        "connect",
        "Message.Attachments",
        "expected an array",
    ),
}


def test_every_malformed_fixture_has_expectations() -> None:
    assert {p.stem for p in (EVENTS / "malformed").glob("*.json")} == set(CASES)


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_malformed_fixture_names_source_and_path(scenario: str) -> None:
    raw = (EVENTS / "malformed" / f"{scenario}.json").read_bytes()
    parser, source, path, reason = CASES[scenario]
    parse = parse_whatsapp_document if parser == "whatsapp" else parse_connect_document
    with pytest.raises(MalformedPayload) as caught:
        parse(raw)
    assert (caught.value.source, caught.value.path) == (source, path)
    assert reason in caught.value.reason


def test_connect_payload_is_refused_by_the_whatsapp_parser() -> None:
    raw = (EVENTS / "connect" / "agent_text.json").read_text()
    with pytest.raises(MalformedPayload, match="not an End User Messaging"):
        parse_whatsapp_document(raw)


def test_whatsapp_payload_is_refused_by_the_connect_parser() -> None:
    raw = (EVENTS / "meta" / "text.json").read_text()
    with pytest.raises(MalformedPayload, match="not a Connect"):
        parse_connect_document(raw)


def test_message_without_any_sender_is_left_out_naming_its_path() -> None:
    body = json.loads((EVENTS / "meta" / "text.json").read_text())
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"][0]["from"] = ""
    value["contacts"] = []
    batch = parse_whatsapp_document(body)
    assert batch.messages == ()
    assert batch.unreadable == (
        f"meta: {MSG}: message has no sender: no 'from', 'from_user_id' or matching contact",
    )


def test_reason_never_quotes_the_offending_value() -> None:
    body = json.loads((EVENTS / "meta" / "text.json").read_text())
    body["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "secret-4567"
    batch = parse_whatsapp_document(body)
    assert len(batch.unreadable) == 1
    assert f"{MSG}.timestamp" in batch.unreadable[0]
    assert "secret-4567" not in batch.unreadable[0]
