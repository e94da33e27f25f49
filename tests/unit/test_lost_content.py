"""Nothing the customer wrote is dropped: edits, deletions, call-permission answers and
unsupported types each reach the agent in words, through the bridge's entry function."""

from __future__ import annotations

from typing import Any

from tests.documents import meta_body
from tests.worlds import Ports, inbound_service, outbound_service

from waconnect.entrypoints.bridge import Bridge, RetryPolicy

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


class World(Ports):
    def __init__(self) -> None:
        super().__init__()
        self.bridge = Bridge(
            inbound_service(self),
            outbound_service(self),
            retry=RetryPolicy(attempts=1),
            sleep=lambda _: None,
        )

    def send(self, message: dict[str, Any]) -> str:
        [outcome] = self.bridge.handle_document(meta_body(message))
        assert outcome.kind == "delivered", outcome
        return outcome.wamid

    def agent_sees(self) -> list[str]:
        [chat] = self.connect.chats.values()
        return chat.messages()


def text(wamid: str, body: str) -> dict[str, Any]:
    return {
        "from": "15550100001",
        "id": wamid,
        "timestamp": "1764000001",
        "type": "text",
        "text": {"body": body},
    }


def edit(wamid: str, original: str, new: dict[str, Any]) -> dict[str, Any]:
    return {
        "from": "15550100001",
        "id": wamid,
        "timestamp": "1764000002",
        "type": "edit",
        "edit": {"original_message_id": original, "message": new},
    }


def test_an_edited_text_shows_the_new_words_as_an_edit_of_the_quoted_original() -> None:
    world = World()
    world.send(text("wamid.E1", "Meet at 5pm at the north gate"))

    world.send(edit("wamid.E2", "wamid.E1", {"type": "text", "text": {"body": "Make it 6pm"}}))

    assert world.agent_sees()[-1] == (
        "✏️ The customer edited «Meet at 5pm at the north gate». It now reads:\nMake it 6pm"
    )


def test_a_reply_to_an_edited_message_quotes_the_words_it_now_reads() -> None:
    world = World()
    world.send(text("wamid.E5", "Meet at 5pm at the north gate"))
    world.send(edit("wamid.E6", "wamid.E5", {"type": "text", "text": {"body": "Make it 6pm"}}))

    reply = text("wamid.E7", "Is that ok?") | {"context": {"from": "15550100001", "id": "wamid.E5"}}
    world.send(reply)
    world.send(
        {
            "from": "15550100001",
            "id": "wamid.E8",
            "timestamp": "1764000003",
            "type": "reaction",
            "reaction": {"message_id": "wamid.E5", "emoji": "👍"},
        }
    )

    assert world.agent_sees()[-2:] == [
        "↩ «Make it 6pm»\nIs that ok?",
        "reacted 👍 to: «Make it 6pm»",
    ]


def test_a_second_edit_names_the_words_of_the_first() -> None:
    world = World()
    world.send(text("wamid.E9", "Meet at 5pm"))
    world.send(edit("wamid.E10", "wamid.E9", {"type": "text", "text": {"body": "Make it 6pm"}}))

    world.send(edit("wamid.E11", "wamid.E9", {"type": "text", "text": {"body": "No, 7pm"}}))

    assert world.agent_sees()[-1] == ("✏️ The customer edited «Make it 6pm». It now reads:\nNo, 7pm")


def test_an_edit_of_a_message_the_bridge_never_saw_still_shows_the_new_words() -> None:
    world = World()

    world.send(edit("wamid.E3", "wamid.GONE", {"type": "text", "text": {"body": "Fixed typo"}}))

    assert world.agent_sees() == [
        "✏️ The customer edited an earlier message. It now reads:\nFixed typo"
    ]


def test_an_edited_photo_sends_the_new_file_and_its_caption() -> None:
    world = World()
    world.whatsapp.add_customer_media("media-new", JPEG, "image/jpeg")
    new_photo = {
        "type": "image",
        "image": {"id": "media-new", "mime_type": "image/jpeg", "caption": "Updated caption"},
    }

    world.send(edit("wamid.E4", "wamid.GONE", new_photo))

    [chat] = world.connect.chats.values()
    [attachment] = chat.attachments()
    assert (attachment.data, attachment.content_type) == (JPEG, "image/jpeg")
    assert world.whatsapp.fetched == ["media-new"]
    assert chat.messages() == [
        "✏️ The customer edited an earlier message. It is now a new photo, sent as a file, "
        "with the caption:\nUpdated caption"
    ]


def test_a_deleted_message_is_named_and_quoted_when_it_is_remembered() -> None:
    world = World()
    world.send(text("wamid.D1", "My card number is on the photo"))

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.D2",
            "timestamp": "1764000003",
            "type": "revoke",
            "revoke": {"original_message_id": "wamid.D1"},
        }
    )

    assert world.agent_sees()[-1] == ("🗑 The customer deleted «My card number is on the photo».")


def test_a_deleted_message_the_bridge_never_saw_is_still_reported() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.D3",
            "timestamp": "1764000003",
            "type": "revoke",
            "revoke": {"original_message_id": "wamid.UNKNOWN"},
        }
    )

    assert world.agent_sees() == ["🗑 The customer deleted an earlier message."]


def call_permission(wamid: str, response: str, **extra: Any) -> dict[str, Any]:
    return {
        "from": "15550100001",
        "id": wamid,
        "timestamp": "1764000004",
        "type": "interactive",
        "interactive": {
            "type": "call_permission_reply",
            "call_permission_reply": {"response": response, **extra},
        },
    }


def test_an_accepted_call_permission_says_accepted_and_until_when() -> None:
    world = World()

    world.send(call_permission("wamid.C1", "accept", expiration_timestamp=1753186982))

    assert world.agent_sees() == [
        "📞 The customer accepted calls from the business until 2025-07-22 12:23 UTC."
    ]


def test_a_declined_call_permission_says_declined() -> None:
    world = World()

    world.send(call_permission("wamid.C2", "reject", response_source="user_action"))

    assert world.agent_sees() == ["📞 The customer declined calls from the business."]


def test_an_unsupported_message_names_the_type_whatsapp_gives() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.U1",
            "timestamp": "1764000005",
            "type": "unsupported",
            "unsupported": {"type": "pool"},
            "errors": [{"code": 131051, "title": "Message type unknown"}],
        }
    )

    [notice] = world.agent_sees()
    assert notice.startswith("⚠️ The customer sent a message of type “pool”, which WhatsApp")
    assert "code 131051" in notice


def test_a_type_the_bridge_does_not_know_is_named_in_its_notice() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.U2",
            "timestamp": "1764000005",
            "type": "hologram",
            "hologram": {"id": "x"},
        }
    )

    [notice] = world.agent_sees()
    assert "“hologram”" in notice


def test_a_message_that_cannot_be_read_still_shows_the_words_it_held() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.L1",
            "timestamp": "1764000006",
            "type": "location",
            "location": {
                "latitude": "LOCATION_LATITUDE",
                "longitude": 9.1,
                "name": "Our shop",
                "address": "1 Example Square",
            },
        }
    )

    assert world.agent_sees() == [
        "⚠️ The customer sent a location message that could not be read: location.latitude: "
        "expected a number, got a non-numeric string\n"
        "What it held:\n"
        "• location.latitude: LOCATION_LATITUDE\n"
        "• location.longitude: 9.1\n"
        "• location.name: Our shop\n"
        "• location.address: 1 Example Square"
    ]


def test_a_contact_card_keeps_name_parts_and_a_lone_country_code() -> None:
    world = World()
    card = {
        "name": {
            "formatted_name": "Ana Silva",
            "first_name": "Ana",
            "middle_name": "Maria",
            "last_name": "Silva",
            "prefix": "Dr.",
        },
        "addresses": [{"city": "Lisbon", "country_code": "PT"}],
    }

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.K1",
            "timestamp": "1764000007",
            "type": "contacts",
            "contacts": [card],
        }
    )

    assert world.agent_sees() == [
        "👤 Contact: Ana Silva\nFull name: Dr. Ana Maria Silva\n🏠 Lisbon, PT"
    ]


def test_a_changed_number_notice_names_the_previous_number() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.N1",
            "timestamp": "1764000008",
            "type": "system",
            "system": {
                "body": "User A changed from 15550100001 to 15550100009",
                "wa_id": "15550100009",
                "type": "user_changed_number",
                "customer": "15550100001",
            },
        }
    )

    assert world.agent_sees() == ["ℹ️ User A changed from 15550100001 to 15550100009"]


def test_a_changed_number_notice_without_words_still_names_both_numbers() -> None:
    world = World()

    world.send(
        {
            "from": "15550100001",
            "id": "wamid.N2",
            "timestamp": "1764000008",
            "type": "system",
            "system": {"wa_id": "15550100009", "type": "user_changed_number", "customer": "OLD-1"},
        }
    )

    assert world.agent_sees() == [
        "ℹ️ The customer changed their WhatsApp number. New WhatsApp number: 15550100009. "
        "Previous number: OLD-1."
    ]


def test_the_caption_of_a_file_that_cannot_be_fetched_goes_with_the_notice() -> None:
    from waconnect.errors import PermanentError

    world = World()
    world.whatsapp.fail_next(
        PermanentError(
            "An error occurred (AccessDeniedException) when calling GetWhatsAppMessageMedia: "
            "s3://media-bucket/inbound/wamid.HBgLMTU1NTAxMDAwMDEV/ is not writable by "
            "arn:aws:iam::123456789012:role/bridge",
            operation="GetWhatsAppMessageMedia",
            code="AccessDeniedException",
        ),
        operation="fetch_media",
    )
    photo = {
        "from": "15550100001",
        "id": "wamid.HBgLMTU1NTAxMDAwMDEV",
        "timestamp": "1764000009",
        "type": "image",
        "image": {"id": "media-9", "mime_type": "image/jpeg", "caption": "The broken part"},
    }

    [outcome] = world.bridge.handle_document(meta_body(photo))

    assert outcome.kind == "failed"
    notice, caption = world.agent_sees()
    assert notice.startswith("⚠️ The customer's photo did not arrive")
    assert caption == "The broken part"


def test_an_agent_notice_never_quotes_storage_keys_or_provider_error_text() -> None:
    from waconnect.errors import PermanentError

    world = World()
    world.whatsapp.fail_next(
        PermanentError(
            "An error occurred (AccessDeniedException) when calling GetWhatsAppMessageMedia: "
            "s3://media-bucket/inbound/wamid.HBgLMTU1NTAxMDAwMDEV/ is not writable by "
            "arn:aws:iam::123456789012:role/bridge",
            operation="GetWhatsAppMessageMedia",
            code="AccessDeniedException",
        ),
        operation="fetch_media",
    )
    doc = {
        "from": "15550100001",
        "id": "wamid.HBgLMTU1NTAxMDAwMDEV",
        "timestamp": "1764000009",
        "type": "document",
        "document": {"id": "media-9", "mime_type": "application/pdf", "filename": "terms.pdf"},
    }

    world.bridge.handle_document(meta_body(doc))

    [notice] = world.agent_sees()
    assert "terms.pdf" in notice
    for leak in ("inbound/", "wamid.", "arn:aws", "s3://", "An error occurred", "not writable"):
        assert leak not in notice
