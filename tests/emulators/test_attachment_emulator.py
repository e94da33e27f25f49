from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.emulators.conftest import NO_RETRY, Chat, start_chat
from tests.emulators.samples import PNG_BYTES, tone_wav
from waconnect.adapters.transfers import SignedUrlTransfers
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud
from waconnect.sandbox.routing import ATTACHMENT_HOST, UnroutedHost


def _start_upload(chat: Chat, name: str, size: int, content_type: str, token: str) -> Any:
    return chat.participant.start_attachment_upload(
        ConnectionToken=chat.connection_token,
        ContentType=content_type,
        AttachmentSizeInBytes=size,
        AttachmentName=name,
        ClientToken=token,
    )


def _upload(chat: Chat, data: bytes, name: str, content_type: str, token: str) -> str:
    started = _start_upload(chat, name, len(data), content_type, token)
    meta = started["UploadMetadata"]
    response = chat.cloud.fetch("PUT", meta["Url"], content=data, headers=meta["HeadersToInclude"])
    assert response.status_code == 200
    chat.participant.complete_attachment_upload(
        ConnectionToken=chat.connection_token,
        AttachmentIds=[started["AttachmentId"]],
        ClientToken=f"complete-{token}",
    )
    return str(started["AttachmentId"])


def test_upload_metadata_names_content_type_and_amz_meta_headers(chat: Chat) -> None:
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", "meta")
    headers = started["UploadMetadata"]["HeadersToInclude"]
    assert headers["Content-Type"] == "image/png"
    assert any(name.startswith("x-amz-meta-") for name in headers)
    # An S3 URL as Connect gives one: the bridge's check passes it with no loopback exception.
    url = started["UploadMetadata"]["Url"]
    assert url.startswith(f"https://{ATTACHMENT_HOST}/")
    assert "X-Amz-Signature=" in url
    with httpx.Client(timeout=60) as client:
        SignedUrlTransfers(client).check(url)


def test_the_sandbox_transport_reaches_only_the_emulators(chat: Chat) -> None:
    with chat.cloud.http_client() as client, pytest.raises(UnroutedHost, match=r"example\.com"):
        client.get("https://example.com/")
    with chat.cloud.http_client() as client, pytest.raises(UnroutedHost):
        # Plain HTTP to the emulated host is not what AWS hands out either.
        client.get(f"http://{ATTACHMENT_HOST}/connect-attachments/download/x")


@pytest.mark.parametrize(
    ("name", "size"),
    [
        pytest.param("voice.ogg", 100, id="ogg-not-in-default-extensions"),
        pytest.param("sticker.webp", 100, id="webp-not-in-default-extensions"),
        pytest.param("noextension", 100, id="no-extension"),
        pytest.param("big.pdf", 20 * 1024 * 1024 + 1, id="over-20-mb"),
    ],
)
def test_start_attachment_upload_refuses_what_connect_refuses(
    chat: Chat, name: str, size: int
) -> None:
    with pytest.raises(chat.participant.exceptions.ValidationException):
        _start_upload(chat, name, size, "application/octet-stream", f"refuse-{name}")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("report.pdf", "image/png", id="pdf-name-png-type"),
        pytest.param("photo.png", "image/jpeg", id="png-name-jpeg-type"),
        pytest.param("notes.txt", "application/octet-stream", id="untyped"),
        pytest.param("photo.png", "png", id="not-a-mime-type"),
        pytest.param("photo.png", "image/png extra", id="garbage-after-the-type"),
    ],
)
def test_start_attachment_upload_refuses_a_content_type_the_name_disagrees_with(
    chat: Chat, name: str, content_type: str
) -> None:
    with pytest.raises(chat.participant.exceptions.ValidationException, match="ContentType"):
        _start_upload(chat, name, 100, content_type, f"type-{name}-{content_type}")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        pytest.param("Photo.JPG", "IMAGE/JPEG", id="case-insensitive"),
        pytest.param("voice.wav", "audio/x-wav", id="common-alias"),
        pytest.param("notes.txt", "text/plain; charset=utf-8", id="with-parameter"),
        pytest.param("clip.mp4", "video/mp4", id="video"),
    ],
)
def test_start_attachment_upload_accepts_the_types_of_its_extension(
    chat: Chat, name: str, content_type: str
) -> None:
    started = _start_upload(chat, name, 100, content_type, f"ok-{name}-{content_type}")
    assert started["UploadMetadata"]["HeadersToInclude"]["Content-Type"] == content_type


def test_exactly_20_mb_is_accepted(chat: Chat) -> None:
    assert _start_upload(chat, "big.pdf", 20 * 1024 * 1024, "application/pdf", "20mb")


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        pytest.param(lambda d, h: (d[:-1], h), 400, id="short-body"),
        pytest.param(lambda d, h: (d, {k: v for k, v in h.items() if k != "Content-Type"}), 403,
                     id="missing-content-type"),
        pytest.param(lambda d, h: (d, {**h, "Content-Type": "image/jpeg"}), 403,
                     id="different-content-type"),
        pytest.param(lambda d, h: (d, {**h, "x-amz-meta-extra": "1"}), 403, id="unsigned-header"),
        pytest.param(
            lambda d, h: (d, {k: v for k, v in h.items() if not k.startswith("x-amz-meta-")}),
            403, id="missing-meta-headers",
        ),
    ],
)  # fmt: skip
def test_put_with_wrong_length_or_headers_is_refused(chat: Chat, mutate: Any, status: int) -> None:
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", f"put-{status}")
    meta = started["UploadMetadata"]
    data, headers = mutate(PNG_BYTES, meta["HeadersToInclude"])
    response = chat.cloud.fetch("PUT", meta["Url"], content=data, headers=headers)
    assert response.status_code == status
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.complete_attachment_upload(
            ConnectionToken=chat.connection_token,
            AttachmentIds=[started["AttachmentId"]],
            ClientToken=f"complete-bad-{status}",
        )


def test_chunked_put_without_content_length_is_refused(chat: Chat) -> None:
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", "chunked")
    meta = started["UploadMetadata"]
    response = chat.cloud.fetch(
        "PUT", meta["Url"], content=iter([PNG_BYTES]), headers=meta["HeadersToInclude"]
    )
    assert response.status_code == 411


def test_put_to_an_expired_or_tampered_url_is_refused(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100201")
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", "expiry")
    meta = started["UploadMetadata"]
    tampered = meta["Url"].replace("X-Amz-Expires=300", "X-Amz-Expires=900")
    assert (
        chat.cloud.fetch(
            "PUT", tampered, content=PNG_BYTES, headers=meta["HeadersToInclude"]
        ).status_code
        == 403
    )
    fresh_cloud.clock.advance(301)
    response = chat.cloud.fetch(
        "PUT", meta["Url"], content=PNG_BYTES, headers=meta["HeadersToInclude"]
    )
    assert response.status_code == 403
    assert b"expired" in response.content


def test_put_after_complete_is_refused_and_leaves_the_attachment_unchanged(chat: Chat) -> None:
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", "once")
    meta = started["UploadMetadata"]
    first = chat.cloud.fetch(
        "PUT", meta["Url"], content=PNG_BYTES, headers=meta["HeadersToInclude"]
    )
    assert first.status_code == 200
    chat.participant.complete_attachment_upload(
        ConnectionToken=chat.connection_token,
        AttachmentIds=[started["AttachmentId"]],
        ClientToken="complete-once",
    )
    other = bytes(reversed(PNG_BYTES))
    again = chat.cloud.fetch("PUT", meta["Url"], content=other, headers=meta["HeadersToInclude"])
    assert (again.status_code, b"AccessDenied" in again.content) == (403, True)
    got = chat.participant.get_attachment(
        ConnectionToken=chat.connection_token, AttachmentId=started["AttachmentId"]
    )
    assert chat.cloud.fetch("GET", got["Url"]).content == PNG_BYTES


def test_put_may_be_repeated_before_complete_and_the_last_one_counts(chat: Chat) -> None:
    started = _start_upload(chat, "photo.png", len(PNG_BYTES), "image/png", "twice")
    meta = started["UploadMetadata"]
    other = bytes(reversed(PNG_BYTES))
    for data in (other, PNG_BYTES):
        assert chat.cloud.fetch(
            "PUT", meta["Url"], content=data, headers=meta["HeadersToInclude"]
        ).is_success
    chat.participant.complete_attachment_upload(
        ConnectionToken=chat.connection_token,
        AttachmentIds=[started["AttachmentId"]],
        ClientToken="complete-twice",
    )
    assert chat.cloud.attachment_bytes(started["AttachmentId"]) == PNG_BYTES


def test_completed_attachment_is_journaled_with_digest_and_duration(
    cloud: Cloud, chat: Chat
) -> None:
    wav = tone_wav(2.0)
    seq = cloud.journal.seq
    attachment_id = _upload(chat, wav, "voice.wav", "audio/wav", "wav")
    assert cloud.journal.since(seq) == [
        {
            "to": "agent",
            "kind": "attachment",
            "contact_id": chat.contact_id,
            "attachment": "voice.wav",
            "content_type": "audio/wav",
            "size": len(wav),
            "sha256": hashlib.sha256(wav).hexdigest(),
            "duration": 2.0,
        }
    ]
    assert cloud.attachment_bytes(attachment_id) == wav


def test_complete_needs_exactly_one_id_and_an_upload(chat: Chat) -> None:
    first = _start_upload(chat, "a.png", 10, "image/png", "one")["AttachmentId"]
    second = _start_upload(chat, "b.png", 10, "image/png", "two")["AttachmentId"]
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.complete_attachment_upload(
            ConnectionToken=chat.connection_token, AttachmentIds=[first, second], ClientToken="2"
        )
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.complete_attachment_upload(
            ConnectionToken=chat.connection_token, AttachmentIds=[first], ClientToken="none"
        )


def test_get_attachment_expiry_must_be_5_to_300_seconds() -> None:
    # A clock that does not tick: the 5 s link stays valid until the test moves time on,
    # however long a busy machine takes to fetch it.
    with Cloud(clock=SandboxClock(1_768_469_400.0, ticking=False)) as cloud:
        chat = start_chat(cloud, customer="15550100411")
        attachment_id = _upload(chat, PNG_BYTES, "photo.png", "image/png", "get")
        unchecked = cloud.client("connectparticipant", parameter_validation=False, **NO_RETRY)
        for seconds in (4, 301):
            with pytest.raises(unchecked.exceptions.ValidationException):
                unchecked.get_attachment(
                    ConnectionToken=chat.connection_token,
                    AttachmentId=attachment_id,
                    UrlExpiryInSeconds=seconds,
                )
        got = chat.participant.get_attachment(
            ConnectionToken=chat.connection_token, AttachmentId=attachment_id, UrlExpiryInSeconds=5
        )
        assert got["AttachmentSizeInBytes"] == len(PNG_BYTES)
        assert cloud.fetch("GET", got["Url"]).content == PNG_BYTES
        cloud.clock.advance(4)
        assert cloud.fetch("GET", got["Url"]).content == PNG_BYTES
        cloud.clock.advance(2)
        assert cloud.fetch("GET", got["Url"]).status_code == 403


def test_agent_file_streams_in_progress_then_approved(cloud: Cloud, chat: Chat) -> None:
    attachment_id = cloud.agent_sends_file(chat.contact_id, PNG_BYTES, "plan.png", "image/png")
    statuses = [
        e["Message"]["Attachments"][0]["Status"]
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT"
    ]
    assert statuses == ["IN_PROGRESS", "APPROVED"]
    got = chat.participant.get_attachment(
        ConnectionToken=chat.connection_token, AttachmentId=attachment_id, UrlExpiryInSeconds=60
    )
    assert chat.cloud.fetch("GET", got["Url"]).content == PNG_BYTES


def test_agent_file_connect_would_refuse_is_rejected(cloud: Cloud, chat: Chat) -> None:
    attachment_id = cloud.agent_sends_file(chat.contact_id, b"OggS", "voice.ogg", "audio/ogg")
    statuses = [
        e["Message"]["Attachments"][0]["Status"]
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT"
    ]
    assert statuses == ["IN_PROGRESS", "REJECTED"]
    with pytest.raises(chat.participant.exceptions.ValidationException):
        chat.participant.get_attachment(
            ConnectionToken=chat.connection_token, AttachmentId=attachment_id
        )


def test_agent_file_whose_type_disagrees_with_its_name_is_rejected(
    cloud: Cloud, chat: Chat
) -> None:
    cloud.agent_sends_file(chat.contact_id, PNG_BYTES, "plan.pdf", "image/png")
    statuses = [
        e["Message"]["Attachments"][0]["Status"]
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT"
    ]
    assert statuses == ["IN_PROGRESS", "REJECTED"]
