"""Hostile and broken input has one defined outcome, decided at the edge."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from tests.documents import as_eum, connect_text, meta_body
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.adapters.local.sqlite import SqliteMessageLog
from waconnect.domain.render import AGENT_TEXT_LIMIT, render_for_agent
from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import UNKNOWN_TIME
from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.entrypoints.cli import main
from waconnect.wire.inbound import parse_connect_document, parse_whatsapp_document

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
LONE = "\ud800"


class World(Ports):
    def __init__(self, *, instance_id: str = "", log_path: Path | None = None) -> None:
        log = None if log_path is None else SqliteMessageLog(log_path, clock=_Clock())
        super().__init__(log=log)  # type: ignore[arg-type]
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
            instance_id=instance_id,
        )

    def agent_sees(self) -> list[str]:
        [chat] = self.connect.chats.values()
        return chat.messages()


class _Clock:
    def now(self) -> float:
        return 1_764_000_000.0


def text(body: str, *, wamid: str = "wamid.S1", timestamp: Any = "1764000001") -> dict[str, Any]:
    return {
        "from": "15550100001",
        "id": wamid,
        "timestamp": timestamp,
        "type": "text",
        "text": {"body": body},
    }


def strings_in(value: Any) -> list[str]:
    """Every string a parsed value holds, its raw payload included."""
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in strings_in(getattr(value, f.name))]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings_in(k) + strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in strings_in(item)]
    return []


# ---- lone surrogates ---------------------------------------------------------------------------


def surrogate_body() -> str:
    """A Meta body as JSON text with lone surrogates in a text, a name and a key, escaped as
    JSON allows."""
    body = meta_body(text(f"hi {LONE} there"), name=f"Ana{LONE}")
    body["entry"][0]["changes"][0]["value"]["messages"][0][f"x{LONE}"] = LONE
    return json.dumps(body)  # ensure_ascii: "\ud800" stays an escape, as a sender writes it


@pytest.mark.parametrize("form", ["meta", "eum"])
def test_lone_surrogates_are_replaced_everywhere_in_what_the_parser_gives(form: str) -> None:
    raw = surrogate_body()
    doc = raw if form == "meta" else json.dumps(as_eum(json.loads(raw))[0])

    batch = parse_whatsapp_document(doc)

    [message] = batch.messages
    assert message.text == "hi \ufffd there"
    assert message.customer.name == "Ana\ufffd"
    for value in strings_in(batch):
        value.encode("utf-8")  # raises on a surrogate


def test_a_surrogate_in_an_already_decoded_document_is_replaced_too() -> None:
    batch = parse_whatsapp_document(meta_body(text(f"{LONE}!")))
    assert batch.messages[0].text == "\ufffd!"


def test_a_surrogate_reaches_the_agent_and_the_sqlite_log_as_a_replacement(
    tmp_path: Path,
) -> None:
    world = World(log_path=tmp_path / "log.sqlite3")

    [outcome] = world.bridge.handle_document(surrogate_body())

    assert outcome.kind == "delivered"
    assert world.agent_sees() == ["hi \ufffd there"]
    assert world.log.recall("wamid.S1").snippet == "hi \ufffd there"  # type: ignore[union-attr]


def test_a_surrogate_in_an_agent_message_is_replaced_before_it_goes_anywhere() -> None:
    raw = json.dumps(connect_text(f"on it {LONE}", contact_id="c-1", event_id="e-1"))
    [event] = parse_connect_document(raw)
    assert event.content == "on it \ufffd"


def test_explain_prints_a_surrogate_payload_in_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "surrogate.json"
    path.write_text(surrogate_body(), encoding="utf-8")

    code = main(["explain", str(path), str(path)])

    out = capsys.readouterr().out
    assert code == 0
    assert out.count("agent sees: hi \ufffd there") == 2
    out.encode("utf-8")


# ---- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize("timestamp", ["99999999999999999999", -5, "0", 10**400, "1e30", 1.5])
def test_an_out_of_range_time_is_unknown_and_the_message_is_kept(timestamp: Any) -> None:
    [message] = parse_whatsapp_document(meta_body(text("hi", timestamp=timestamp))).messages
    assert (message.timestamp, message.sent_at, message.text) == (UNKNOWN_TIME, None, "hi")


def test_a_photo_with_an_impossible_time_reaches_the_agent_named_without_a_date() -> None:
    world = World()
    world.whatsapp.add_customer_media("media-1", JPEG, "image/jpeg")
    photo = {
        "from": "15550100001",
        "id": "wamid.P1",
        "timestamp": "99999999999999",
        "type": "image",
        "image": {"id": "media-1", "mime_type": "image/jpeg"},
    }

    [outcome] = world.bridge.handle_document(meta_body(photo))

    assert outcome.kind == "delivered"
    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert attachment.name.startswith("photo-")
    assert "1970" not in attachment.name


# ---- size --------------------------------------------------------------------------------------


def test_a_megabyte_of_text_is_capped_and_the_rest_summarised() -> None:
    huge = ("word " * 200_000).strip()
    [message] = parse_whatsapp_document(meta_body(text(huge))).messages

    shown = render_for_agent(message)

    assert len(shown) < AGENT_TEXT_LIMIT + 300
    assert shown.startswith("word word")
    assert shown.endswith(
        f"…\n⚠️ The rest of this message ({len(huge) - AGENT_TEXT_LIMIT:,} more characters) is "
        f"not shown: the bridge passes on at most {AGENT_TEXT_LIMIT:,} characters of one "
        "message, four times what WhatsApp lets a customer type."
    )
    assert (
        len(split_text(shown, CONNECT_TEXT_LIMIT)) <= 2 * AGENT_TEXT_LIMIT // CONNECT_TEXT_LIMIT + 1
    )


def test_a_megabyte_without_spaces_is_capped_to_a_bounded_number_of_parts() -> None:
    world = World()

    [outcome] = world.bridge.handle_document(meta_body(text("x" * 1_000_000)))

    assert outcome.kind == "delivered"
    parts = world.agent_sees()
    assert len(parts) <= AGENT_TEXT_LIMIT // CONNECT_TEXT_LIMIT + 1
    assert "is not shown" in parts[-1]


def test_text_within_whatsapps_own_limit_is_never_cut() -> None:
    body = "é" * 4096
    [message] = parse_whatsapp_document(meta_body(text(body))).messages
    assert render_for_agent(message) == body


# ---- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Ana\u202eevil\u202c", "Anaevil"),
        ("Ana\x00\x1b[31mRed", "Ana[31mRed"),
        ("Ana\nSmith\t", "Ana Smith"),
        ("\u2066Ana\u2069 \u200fB", "Ana B"),
        ("👩🏽‍💻 Ana", "👩🏽‍💻 Ana"),
    ],
)
def test_display_names_lose_control_and_bidi_characters(name: str, shown: str) -> None:
    [message] = parse_whatsapp_document(meta_body(text("hi"), name=name)).messages
    assert message.customer.name == shown


def test_a_very_long_display_name_is_kept_to_what_connect_accepts() -> None:
    [message] = parse_whatsapp_document(meta_body(text("hi"), name="A" * 5000)).messages
    assert 0 < len(message.customer.name) <= 256


# ---- Connect events of another instance ------------------------------------------------------


def connect_envelope(instance_id: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:other",
        "Message": json.dumps(connect_text("pay here", contact_id="c-9", event_id="e-9")),
        "Timestamp": "2026-11-24T10:16:01.000Z",
        "SignatureVersion": "1",
        "Signature": "bogus",
        "MessageAttributes": {
            "InstanceId": {"Type": "String", "Value": instance_id},
            "ContactId": {"Type": "String", "Value": "c-9"},
            "MessageVisibility": {"Type": "String", "Value": "ALL"},
        },
    }


def test_an_event_of_another_connect_instance_is_ignored_with_a_reason() -> None:
    world = World(instance_id="11111111-2222-3333-4444-555555555555")

    [outcome] = world.bridge.handle_document(
        connect_envelope("99999999-aaaa-bbbb-cccc-dddddddddddd")
    )

    assert outcome.kind == "ignored"
    assert "99999999-aaaa-bbbb-cccc-dddddddddddd" in outcome.reason
    assert world.whatsapp.sent == []


def test_an_instance_given_as_an_arn_matches_its_own_events() -> None:
    instance = "11111111-2222-3333-4444-555555555555"
    world = World(instance_id=f"arn:aws:connect:us-east-1:123456789012:instance/{instance}")

    [outcome] = world.bridge.handle_document(connect_envelope(instance))

    # Ours, so it is routed (to nobody: the contact is unknown), not refused as foreign.
    assert "not this bridge's" not in outcome.reason
