"""Scenario files are validated up front: every malformed step gets a reason naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox.scenario import (
    VOICE_MIME_TYPE,
    ScenarioFileError,
    load_scenario,
    parse_steps,
)
from waconnect.sandbox.scenario_steps import (
    AgentTarget,
    AgentText,
    ClockAdvance,
    Concurrently,
    CustomerFile,
    CustomerText,
    Invalid,
    Payload,
)


@pytest.fixture
def base(tmp_path: Path) -> Path:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "media" / "note.ogg").write_bytes(b"OggS not really ogg")
    (tmp_path / "media" / "terms.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    (tmp_path / "media" / "sticker.webp").write_bytes(b"RIFF....WEBP")
    return tmp_path


def reason_of(base: Path, step: object) -> str:
    action = parse_steps([step], base=base).steps[0].action
    assert isinstance(action, Invalid), action
    return action.reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not JSON"),
        ('{"action": "customer.text"}', "a JSON list of steps, not a JSON object"),
        ('"hello"', "a JSON list of steps, not a JSON string"),
    ],
    ids=["not-json", "object", "string"],
)
def test_a_file_that_is_not_a_json_list_is_refused_as_a_whole(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ScenarioFileError, match=expected):
        load_scenario(path)


def test_a_missing_scenario_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="cannot read"):
        load_scenario(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ({"action": "customer.sing"}, "step 0: field 'action': unknown action 'customer.sing'"),
        ({"action": "customer.text", "customer": "15550100001"}, "field 'text': required"),
        ({"action": "customer.text", "text": "hi"}, "field 'customer': required"),
        (
            {"action": "customer.text", "customer": 15550100001, "text": "hi"},
            "field 'customer': must be a wa_id string or an object",
        ),
        (
            {"action": "customer.text", "customer": "Ana's phone", "text": "hi"},
            "field 'customer': expected a phone number (wa_id) or a business-scoped user id",
        ),
        (
            {"action": "customer.text", "customer": {"name": "Ana"}, "text": "hi"},
            "field 'customer': needs a wa_id or a user_id",
        ),
        (
            {"action": "customer.text", "customer": "15550100001", "text": 42},
            "field 'text': must be a string, not a JSON number",
        ),
        (
            {"action": "customer.text", "customer": "15550100001", "text": "  "},
            "field 'text': must not be empty",
        ),
        (
            {"action": "customer.text", "customer": "15550100001", "text": "hi", "colour": 1},
            "field 'colour': unknown field for customer.text",
        ),
        (
            {"action": "customer.file", "customer": "15550100001", "path": "media/nope.jpg"},
            "field 'path': file not found: media/nope.jpg",
        ),
        (
            {
                "action": "customer.file",
                "customer": "15550100001",
                "path": "media/photo.jpg",
                "kind": "hologram",
            },
            "field 'kind': must be one of image, video, audio, document, sticker",
        ),
        (
            {
                "action": "customer.file",
                "customer": "15550100001",
                "path": "media/sticker.webp",
                "caption": "hi",
            },
            "field 'caption': WhatsApp has no caption on sticker messages",
        ),
        (
            {
                "action": "customer.location",
                "customer": "15550100001",
                "latitude": 91,
                "longitude": 0,
            },
            "field 'latitude': must be between -90 and 90",
        ),
        (
            {
                "action": "customer.location",
                "customer": "15550100001",
                "latitude": "47.1",
                "longitude": 8.5,
            },
            "field 'latitude': must be a number, not a JSON string",
        ),
        (
            {"action": "customer.message", "customer": "15550100001", "message": {"text": {}}},
            "field 'message.type': required",
        ),
        (
            {
                "action": "customer.message",
                "customer": "15550100001",
                "message": {"type": "text", "id": "wamid.X"},
            },
            "field 'message.id': is set by the emulator",
        ),
        (
            {
                "action": "customer.text",
                "customer": "15550100001",
                "text": "hi",
                "reply_to": "earlier",
            },
            "field 'reply_to': no earlier step is labelled 'earlier'",
        ),
        (
            {"action": "agent.text", "customer": "15550100001", "contact_id": "c-1", "text": "x"},
            "give exactly one of 'customer' and 'contact_id'",
        ),
        (
            {
                "action": "agent.text",
                "customer": "15550100001",
                "text": "x",
                "content_type": "text/html",
            },
            "field 'content_type': must be one of text/plain, text/markdown",
        ),
        ({"action": "clock.advance", "seconds": -5}, "field 'seconds': must be between 0"),
        ({"action": "clock.advance", "seconds": True}, "must be a number, not a JSON boolean"),
        (
            {"action": "token.expire", "customer": "15550100001", "repeat": 0},
            "field 'repeat': must be between 1 and 100",
        ),
        (
            {"action": "agent.end", "customer": "15550100001", "retries": "never"},
            'field \'retries\': must be "now" or "later"',
        ),
        ({"payload": [1, 2]}, "field 'payload': must be a JSON object (the raw payload)"),
        (
            {"payload": {"object": "whatsapp_business_account"}, "media": {"1": "media/x.jpg"}},
            "field 'media.1.path': file not found: media/x.jpg",
        ),
        ({"concurrently": []}, "field 'concurrently': must hold at least one step"),
        ("customer.text", "step 0: a step is a JSON object, not a JSON string"),
        ({}, "step 0: empty step"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith("step") else None,
)
def test_a_malformed_step_is_invalid_with_a_reason_naming_the_step_and_field(
    base: Path, step: object, expected: str
) -> None:
    assert expected in reason_of(base, step)


def test_a_malformed_step_inside_concurrently_invalidates_the_group_and_names_the_sub_step(
    base: Path,
) -> None:
    group = {
        "concurrently": [
            {"action": "customer.text", "customer": "15550100001", "text": "fine"},
            {"action": "customer.text", "customer": "15550100001"},
        ]
    }
    reason = reason_of(base, group)
    assert "step 0.concurrently[1]: field 'text': required" in reason


def test_a_malformed_step_does_not_stop_the_next_steps_from_being_parsed(base: Path) -> None:
    scenario = parse_steps(
        [
            {"action": "customer.text", "customer": "15550100001"},
            {"action": "customer.text", "customer": "15550100001", "text": "still here"},
        ],
        base=base,
    )
    first, second = scenario.steps
    assert isinstance(first.action, Invalid)
    assert second.action == CustomerText(customer=Customer(wa_id="15550100001"), text="still here")


def test_a_label_used_twice_is_refused(base: Path) -> None:
    step = {"action": "customer.text", "customer": "15550100001", "text": "x", "label": "a"}
    scenario = parse_steps([step, step], base=base)
    assert not isinstance(scenario.steps[0].action, Invalid)
    second = scenario.steps[1].action
    assert isinstance(second, Invalid)
    assert "step 1: field 'label': 'a' is already used" in second.reason


def test_a_customer_object_with_a_step_name_becomes_a_username_customer_with_that_name(
    base: Path,
) -> None:
    step = {
        "action": "customer.text",
        "customer": {"wa_id": "", "user_id": "US.1234"},
        "name": "Ana",
        "text": "hi",
    }
    action = parse_steps([step], base=base).steps[0].action
    assert isinstance(action, CustomerText)
    assert action.customer == Customer(wa_id="", user_id="US.1234", name="Ana")
    assert action.customer.identity == "US.1234"


@pytest.mark.parametrize(
    ("path", "kind", "mime_type"),
    [
        ("media/photo.jpg", "image", "image/jpeg"),
        ("media/terms.pdf", "document", "application/pdf"),
        ("media/sticker.webp", "sticker", "image/webp"),
        ("media/note.ogg", "audio", "audio/ogg"),
    ],
)
def test_a_customer_file_kind_and_type_are_guessed_from_the_file_name(
    base: Path, path: str, kind: str, mime_type: str
) -> None:
    step = {"action": "customer.file", "customer": "15550100001", "path": path}
    action = parse_steps([step], base=base).steps[0].action
    assert isinstance(action, CustomerFile)
    assert (action.kind, action.file.mime_type) == (kind, mime_type)
    assert action.file.path == (base / path).resolve()


def test_a_document_keeps_its_file_name_when_none_is_given(base: Path) -> None:
    step = {"action": "customer.file", "customer": "15550100001", "path": "media/terms.pdf"}
    action = parse_steps([step], base=base).steps[0].action
    assert isinstance(action, CustomerFile)
    assert action.filename == "terms.pdf"


def test_a_voice_note_is_ogg_opus_audio_marked_as_voice(base: Path) -> None:
    step = {"action": "customer.voice", "customer": "15550100001", "path": "media/note.ogg"}
    action = parse_steps([step], base=base).steps[0].action
    assert isinstance(action, CustomerFile)
    assert (action.kind, action.voice, action.file.mime_type) == ("audio", True, VOICE_MIME_TYPE)


def test_label_repeat_and_concurrently_are_kept_on_the_steps(base: Path) -> None:
    scenario = parse_steps(
        [
            {"label": "tick", "repeat": 3, "action": "clock.advance", "seconds": 60},
            {
                "concurrently": [
                    {"action": "agent.text", "contact_id": "c-1", "text": "one"},
                    {"payload": {"object": "whatsapp_business_account", "entry": []}},
                ]
            },
        ],
        base=base,
    )
    tick, group = scenario.steps
    assert (tick.label, tick.repeat, tick.action) == ("tick", 3, ClockAdvance(seconds=60.0))
    assert isinstance(group.action, Concurrently)
    agent, payload = group.action.steps
    assert agent.index == payload.index == 1
    assert agent.action == AgentText(target=AgentTarget(contact_id="c-1"), text="one")
    assert isinstance(payload.action, Payload)


def test_a_step_may_leave_the_kept_retries_for_a_later_step(base: Path) -> None:
    held, default = parse_steps(
        [
            {"action": "agent.end", "customer": "15550100001", "retries": "later"},
            {"action": "agent.end", "customer": "15550100001"},
        ],
        base=base,
    ).steps
    assert (held.retries, default.retries) == ("later", "now")


def test_a_bare_payload_step_is_the_document_without_label_and_repeat(base: Path) -> None:
    document = {"ContactId": "c-1", "ParticipantRole": "AGENT", "Type": "MESSAGE"}
    step = parse_steps([{**document, "label": "raw", "repeat": 2}], base=base).steps[0]
    assert step.action == Payload(document=document)
    assert (step.label, step.repeat) == ("raw", 2)


def test_a_scenario_file_resolves_paths_against_its_own_folder(base: Path) -> None:
    path = base / "scenario.json"
    path.write_text(
        json.dumps(
            [{"action": "customer.file", "customer": "15550100001", "path": "media/photo.jpg"}]
        )
    )
    action = load_scenario(path).steps[0].action
    assert isinstance(action, CustomerFile)
    assert action.file.path == (base / "media" / "photo.jpg").resolve()


@pytest.mark.parametrize(
    ("given", "wa_id", "user_id"),
    [
        ("15550100001", "15550100001", ""),
        ("+1 555-010-0001", "15550100001", ""),
        ("US.13491208655302741918", "", "US.13491208655302741918"),
        ({"wa_id": "+15550100001", "name": "Ana"}, "15550100001", ""),
    ],
)
def test_a_customer_is_named_as_people_write_numbers_or_by_their_user_id(
    tmp_path: Path, given: object, wa_id: str, user_id: str
) -> None:
    scenario = parse_steps(
        [{"action": "customer.text", "customer": given, "text": "hi"}], base=tmp_path
    )

    action = scenario.steps[0].action
    assert isinstance(action, CustomerText)
    assert (action.customer.wa_id, action.customer.user_id) == (wa_id, user_id)


def test_a_voice_note_that_is_not_ogg_opus_is_refused_up_front(tmp_path: Path) -> None:
    (tmp_path / "statement.pdf").write_bytes(b"%PDF-1.7\n" + b"0" * 64)

    scenario = parse_steps(
        [{"action": "customer.voice", "customer": "15550100001", "path": "statement.pdf"}],
        base=tmp_path,
    )

    action = scenario.steps[0].action
    assert isinstance(action, Invalid)
    assert action.reason == (
        "step 0: field 'path': a voice note must be an Ogg/Opus file (use customer.file for others)"
    )
