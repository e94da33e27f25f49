"""Conformance over a corpus of webhook bodies that other WhatsApp libraries' test suites use.

The corpus lives beside the checkout, in ``../shared/corpus/webhooks/`` (CI puts it there); it
is read in place, never copied. Every body goes through ``explain`` and through the bridge, as
the Meta webhook body it is and as the End User Messaging notifications that would carry it:
no exception, no rejection, and every field a person wrote or reads (texts, captions, titles,
names, numbers, coordinates, order lines) reaches the agent or is named as left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.documents import as_eum
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.entrypoints.bridge import Bridge, RetryPolicy
from waconnect.entrypoints.explain import explain_file

REPO = Path(__file__).resolve().parents[2]
PLACE = REPO.parent / "shared" / "corpus" / "webhooks"
CORPUS = PLACE if PLACE.is_dir() else None
BODIES = sorted(CORPUS.rglob("*.json")) if CORPUS is not None else []
IDS = [str(path.relative_to(CORPUS)) for path in BODIES] if CORPUS is not None else []

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64

# Fields no person wrote or reads: ids, hashes, media links, wire labels, times, routing.
NOT_CONTENT = frozenset(
    {
        "id",
        "from",
        "from_user_id",
        "timestamp",
        "type",
        "sha256",
        "mime_type",
        "url",
        "voice",
        "animated",
        "payload",
        "wa_id",
        "user_id",
        "parent_user_id",
        "from_parent_user_id",
        "catalog_id",
        "message_id",
        "original_message_id",
        "ctwa_clid",
        "source_id",
        "source_type",
        "media_type",
        "image_url",
        "video_url",
        "thumbnail_url",
        "flow_token",
        "response_source",
        "expiration_timestamp",
        "identity",
        "currency",
        # Said again by the country's name; shown only when no name is given.
        "country_code",
        # A call-permission answer is "accept" or "reject"; the agent reads it in words.
        "response",
    }
)
ENVELOPE = frozenset({"context", "errors"})


def test_the_corpus_is_beside_the_checkout() -> None:
    if CORPUS is None:
        pytest.fail(
            "the webhook corpus is missing: expected ../shared/corpus/webhooks/ beside the "
            f"checkout (looked in {PLACE}); the conformance tests "
            "below did not run"
        )
    assert len(BODIES) >= 100


def messages_of(body: Any) -> list[dict[str, Any]]:
    found = []
    for entry in body.get("entry", []):
        for change in entry.get("changes", []):
            if change.get("field", "messages") == "messages":
                found.extend(change.get("value", {}).get("messages", []) or [])
    return found


def media_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every file a message names, an edited message's new file included."""
    files = [m for t in MEDIA_TYPES if isinstance(m := message.get(t), dict) and "id" in m]
    edit = message.get("edit")
    if isinstance(edit, dict) and isinstance(edit.get("message"), dict):
        files += media_of(edit["message"])
    return files


def content(value: Any, key: str = "") -> list[str]:
    """The fields of a message a person wrote or reads, as the words to look for."""
    if key in NOT_CONTENT or key in ENVELOPE:
        return []
    if isinstance(value, dict):
        if key == "nfm_reply":
            # A flow reply's "name" is always "flow", a label of the wire, not an answer.
            value = {k: v for k, v in value.items() if k != "name"}
        return [word for k, v in value.items() for word in content(v, k)]
    if isinstance(value, list):
        return [word for item in value for word in content(item, key)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, float):
        return [f"{value:.6f}" if key in ("latitude", "longitude") else f"{value:.2f}"]
    if isinstance(value, int):
        return [f"{value:.2f}" if key == "item_price" else str(value)]
    text = str(value).strip()
    if text.startswith("{"):
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            # A flow's answers arrive as JSON text; the agent reads each answer.
            return content(decoded, key)
    return [text] if text else []


class World(Ports):
    def __init__(self, body: Any) -> None:
        super().__init__()
        for message in messages_of(body):
            for media in media_of(message):
                # Bytes that agree with the name and type WhatsApp gives, as a real file does.
                if media.get("mime_type") == "application/pdf":
                    self.whatsapp.add_customer_media(media["id"], PDF, "application/pdf")
                else:
                    self.whatsapp.add_customer_media(media["id"], JPEG, "image/jpeg")
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )

    def agent_read(self) -> str:
        parts = []
        for chat in self.connect.chats.values():
            parts.extend(entry.text or entry.name for entry in chat.transcript)
        return "\n".join(parts)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", BODIES, ids=IDS)
def test_explain_reads_every_body_in_both_forms(path: Path, tmp_path: Path) -> None:
    reports = [explain_file(path)]
    for number, notification in enumerate(as_eum(load(path))):
        eum = tmp_path / f"eum-{number}.json"
        eum.write_text(json.dumps(notification), encoding="utf-8")
        reports.append(explain_file(eum))

    assert [r for r in reports if "error" in r] == []
    meta_messages = reports[0].get("messages", [])
    assert all(m["agent_sees"] or "file" in m for m in meta_messages)


@pytest.mark.parametrize("form", ["meta", "eum"])
@pytest.mark.parametrize("path", BODIES, ids=IDS)
def test_the_bridge_gives_the_agent_every_field_a_person_wrote(path: Path, form: str) -> None:
    body = load(path)
    world = World(body)
    documents = [body] if form == "meta" else as_eum(body)

    outcomes = [o for doc in documents for o in world.bridge.handle_document(doc)]

    assert [o for o in outcomes if o.kind in ("rejected", "failed")] == []
    read = world.agent_read().casefold()
    # A second message under an id already seen is a redelivery, by WhatsApp's rules.
    first = {m.get("id"): m for m in reversed(messages_of(body))}
    missing = [
        (wamid, word)
        for wamid, message in first.items()
        for word in content(message)
        if word.casefold() not in read
    ]
    assert missing == [], read


def test_every_message_in_the_corpus_reaches_the_agent_once_per_id() -> None:
    if CORPUS is None:
        pytest.fail("the webhook corpus is missing (see test_the_corpus_is_beside_the_checkout)")
    seen = 0
    for path in BODIES:
        body = load(path)
        world = World(body)
        outcomes = world.bridge.handle_document(body)
        ids = {m.get("id") for m in messages_of(body)}
        assert {o.wamid for o in outcomes if o.kind == "delivered"} == ids, path
        seen += len(ids)
    assert seen >= 50
