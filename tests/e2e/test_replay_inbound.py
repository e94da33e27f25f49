"""Every WhatsApp message type reaches the agent (docs/replay.md, DESIGN.md "Inbound").

Expected effects are written from the documentation: what the agent must see, and what the
customer gets back (read receipts, the 📎 reaction).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from tests.e2e.conftest import ANA, BEN, projected, sha256_of

pytestmark = pytest.mark.slow


def test_a_first_text_opens_a_chat_reaches_the_agent_and_is_marked_read(play: Any) -> None:
    replayed = play([{"action": "customer.text", "customer": ANA, "name": "Ana", "text": "Hello!"}])

    assert replayed.exit_code == 0, replayed.dump()
    lines = replayed.at(0)
    assert projected(lines, "step", "to", "kind", "customer", "content_type", "text") == [
        {"step": 0, "to": "system", "kind": "chat.started", "customer": ANA},
        {"step": 0, "to": "system", "kind": "connection.created", "customer": ANA},
        {"step": 0, "to": "agent", "kind": "message", "content_type": "text/plain",
         "text": "Hello!"},
        {"step": 0, "to": "customer", "kind": "read", "customer": ANA},
    ]  # fmt: skip
    contact_ids = {line["contact_id"] for line in lines if "contact_id" in line}
    assert len(contact_ids) == 1


def test_an_image_with_a_caption_arrives_as_the_same_jpeg_plus_its_caption(
    play: Any, media: Path
) -> None:
    photo = media / "photo.jpg"
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "Hi"},
            {"label": "photo", "action": "customer.file", "customer": ANA, "path": str(photo),
             "caption": "The receipt"},
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=1, to="agent", kind="attachment")
    assert attachment["content_type"] == "image/jpeg"
    assert re.fullmatch(r"photo-\d{4}-\d\d-\d\d-\d{6}-[0-9a-f]{4}\.jpg", attachment["attachment"])
    assert attachment["size"] == photo.stat().st_size
    assert attachment["sha256"] == sha256_of(photo)
    assert replayed.one(step=1, to="agent", kind="message")["text"] == "The receipt"
    assert replayed.one(step=1, to="customer", kind="read")["reply_to"] == "photo"
    reaction = replayed.one(step=1, to="customer", kind="reaction")
    assert (reaction["emoji"], reaction["reply_to"]) == ("📎", "photo")


def test_a_first_message_that_is_a_photo_opens_the_chat_and_is_attached(
    play: Any, media: Path
) -> None:
    photo = media / "photo.jpg"
    replayed = play([{"action": "customer.file", "customer": BEN, "path": str(photo)}])

    assert replayed.exit_code == 0, replayed.dump()
    lines = replayed.at(0)
    assert projected(lines[:2], "to", "kind", "customer") == [
        {"to": "system", "kind": "chat.started", "customer": BEN},
        {"to": "system", "kind": "connection.created", "customer": BEN},
    ]
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    assert attachment["sha256"] == sha256_of(photo)
    assert attachment["contact_id"] == lines[0]["contact_id"]
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "📎"


def test_a_video_arrives_as_the_same_mp4(play: Any, media: Path) -> None:
    clip = media / "clip.mp4"
    replayed = play(
        [{"action": "customer.file", "customer": ANA, "path": str(clip), "caption": "Look"}]
    )

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    assert attachment["content_type"] == "video/mp4"
    assert re.fullmatch(r"video-\d{4}-\d\d-\d\d-\d{6}-[0-9a-f]{4}\.mp4", attachment["attachment"])
    assert attachment["sha256"] == sha256_of(clip)
    assert replayed.one(step=0, to="agent", kind="message")["text"] == "Look"


def test_a_document_arrives_under_its_own_file_name(play: Any, media: Path) -> None:
    terms = media / "terms.pdf"
    replayed = play(
        [{"action": "customer.file", "customer": ANA, "path": str(terms),
          "filename": "contract.pdf"}]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    assert (attachment["attachment"], attachment["content_type"]) == (
        "contract.pdf",
        "application/pdf",
    )
    assert attachment["sha256"] == sha256_of(terms)


def _audio_facts(path: Path) -> tuple[int, int, str, float]:
    """(sample rate, channels, sample format, decoded seconds) of the first audio stream."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = 0
        rate = stream.codec_context.sample_rate
        channels = stream.codec_context.channels
        sample_format = stream.codec_context.format.name
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate
    return rate, channels, sample_format, samples / rate


def test_a_voice_note_reaches_the_agent_as_16khz_mono_16bit_wav_of_the_same_length(
    play: Any, media: Path
) -> None:
    voice = media / "voice.ogg"
    replayed = play(
        [{"label": "voice", "action": "customer.voice", "customer": ANA, "path": str(voice)}],
        keep=True,
    )

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    name_pattern = r"voice-note-\d{4}-\d\d-\d\d-\d{6}-[0-9a-f]{4}\.wav"
    assert re.fullmatch(name_pattern, attachment["attachment"])
    assert attachment["content_type"] in ("audio/wav", "audio/x-wav", "audio/wave")
    [wav] = replayed.kept(attachment["attachment"])
    assert wav.stat().st_size == attachment["size"]
    rate, channels, sample_format, seconds = _audio_facts(wav)
    assert (rate, channels, sample_format) == (16_000, 1, "s16")
    *_, original_seconds = _audio_facts(voice)
    assert original_seconds >= 3.0
    assert abs(seconds - original_seconds) <= 0.01 * original_seconds
    assert abs(attachment["duration"] - original_seconds) <= 0.01 * original_seconds
    assert replayed.one(step=0, to="customer", kind="reaction")["emoji"] == "📎"


def test_a_sticker_reaches_the_agent_as_a_png_of_its_first_frame(play: Any, media: Path) -> None:
    replayed = play(
        [{"action": "customer.file", "customer": ANA, "path": str(media / "sticker.webp")}],
        keep=True,
    )

    assert replayed.exit_code == 0, replayed.dump()
    attachment = replayed.one(step=0, to="agent", kind="attachment")
    assert attachment["content_type"] == "image/png"
    assert attachment["attachment"].endswith(".png")
    [png] = replayed.kept(attachment["attachment"])
    with Image.open(png) as image:
        assert (image.format, image.size) == ("PNG", (64, 64))


# (Meta message object, fragments the agent's message must contain), from DESIGN.md's renderings
NON_MEDIA_MESSAGES: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "location": (
        {"type": "location", "location": {"latitude": 47.3769, "longitude": 8.5417,
                                           "name": "Example Store", "address": "1 Example St"}},
        ("Example Store", "1 Example St", "47.3769", "8.5417", "http"),
    ),
    "contacts": (
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Carla Example",
                                                    "first_name": "Carla"},
                                           "phones": [{"phone": "+1 555 0100 003",
                                                       "type": "CELL", "wa_id": "15550100003"}]}]},
        ("Carla Example", "555 0100 003"),
    ),
    "button-reply": (
        {"type": "interactive",
         "interactive": {"type": "button_reply",
                         "button_reply": {"id": "yes", "title": "Yes please"}}},
        ("Yes please",),
    ),
    "list-reply": (
        {"type": "interactive", "interactive": {"type": "list_reply",
                                                "list_reply": {"id": "p2", "title": "Premium plan",
                                                               "description": "Monthly"}}},
        ("Premium plan",),
    ),
    "template-button": (
        {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}},
        ("Stop promotions",),
    ),
    "order": (
        {"type": "order", "order": {"catalog_id": "900000000000001", "text": "For Friday",
                                    "product_items": [{"product_retailer_id": "SKU-1042",
                                                       "quantity": 2, "item_price": 9.5,
                                                       "currency": "EUR"}]}},
        ("SKU-1042", "2"),
    ),
    "system": (
        {"type": "system", "system": {"body": "Ana changed her phone number",
                                      "type": "user_changed_number", "wa_id": "15550100009"}},
        ("changed",),
    ),
    "unsupported": (
        {"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown",
                                            "message": "Message type unknown"}]},
        (),
    ),
    "unknown": ({"type": "hologram", "hologram": {"id": "x"}}, ("hologram",)),
}  # fmt: skip


@pytest.mark.parametrize("name", list(NON_MEDIA_MESSAGES))
def test_every_non_media_message_type_reaches_the_agent_as_one_readable_message(
    play: Any, name: str
) -> None:
    message, fragments = NON_MEDIA_MESSAGES[name]
    replayed = play([{"action": "customer.message", "customer": ANA, "message": message}])

    assert replayed.exit_code == 0, replayed.dump()
    [agent_line] = replayed.where(step=0, to="agent")
    assert agent_line["kind"] == "message"
    assert agent_line["text"].strip()
    for fragment in fragments:
        assert fragment in agent_line["text"], agent_line["text"]
    assert replayed.where(step=0, to="system", kind="chat.started")


def test_a_location_from_the_action_reaches_the_agent_with_coordinates(play: Any) -> None:
    replayed = play(
        [{"action": "customer.location", "customer": ANA, "latitude": -33.8688,
          "longitude": 151.2093, "name": "Harbour"}]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    text = replayed.one(step=0, to="agent", kind="message")["text"]
    assert all(fragment in text for fragment in ("Harbour", "-33.8688", "151.2093"))


def test_a_reaction_and_a_reply_to_an_earlier_message_quote_it_to_the_agent(play: Any) -> None:
    replayed = play(
        [
            {"label": "question", "action": "customer.text", "customer": ANA,
             "text": "Is the blue one in stock?"},
            {"action": "customer.message", "customer": ANA, "reply_to": "question",
             "message": {"type": "reaction", "reaction": {"emoji": "👍"}}},
            {"action": "customer.message", "customer": ANA, "reply_to": "question",
             "message": {"type": "reaction", "reaction": {"emoji": ""}}},
            {"action": "customer.text", "customer": ANA, "reply_to": "question",
             "text": "Any news?"},
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    texts = [replayed.one(step=step, to="agent", kind="message")["text"] for step in (1, 2, 3)]
    assert texts == [
        "reacted 👍 to: «Is the blue one in stock?»",
        "removed their reaction to: «Is the blue one in stock?»",
        "↩ «Is the blue one in stock?»\nAny news?",
    ]


def test_a_reply_to_a_photo_without_caption_quotes_its_file_name(play: Any, media: Path) -> None:
    replayed = play(
        [
            {"label": "photo", "action": "customer.file", "customer": ANA,
             "path": str(media / "photo.jpg")},
            {"action": "customer.text", "customer": ANA, "reply_to": "photo",
             "text": "That is the scratch"},
        ]
    )  # fmt: skip

    assert replayed.exit_code == 0, replayed.dump()
    name = replayed.one(step=0, to="agent", kind="attachment")["attachment"]
    reply = replayed.one(step=1, to="agent", kind="message")["text"]
    assert reply == f"↩ «📎 {name}»\nThat is the scratch"


def test_the_customers_own_messages_are_not_echoed_back_to_them(play: Any) -> None:
    replayed = play(
        [
            {"action": "customer.text", "customer": ANA, "text": "First"},
            {"action": "customer.text", "customer": ANA, "text": "Second"},
        ]
    )

    assert replayed.exit_code == 0, replayed.dump()
    to_customer = replayed.where(to="customer")
    assert {line["kind"] for line in to_customer} == {"read"}
    assert len(replayed.where(to="agent", kind="message", text="Second")) == 1
