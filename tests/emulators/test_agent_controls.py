from __future__ import annotations

import time
from typing import Any

import pytest

from tests.emulators.conftest import WAIT_SECONDS, Chat, start_chat
from tests.emulators.samples import PNG_BYTES
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud import Cloud

ENDED = "application/vnd.amazonaws.connect.event.chat.ended"


def _visibility(envelope: dict[str, Any]) -> str:
    return str(envelope["MessageAttributes"]["MessageVisibility"]["Value"])


def _attachment_statuses(chat: Chat, attachment_id: str) -> list[str]:
    return [
        e["Message"]["Attachments"][0]["Status"]
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT"
        and e["Message"]["Attachments"][0]["AttachmentId"] == attachment_id
    ]


@pytest.mark.parametrize("visibility", ["AGENT", "CUSTOMER", "ALL"])
def test_agent_text_is_streamed_with_the_given_visibility(chat: Chat, visibility: str) -> None:
    message_id = chat.cloud.agent_sends_text(chat.contact_id, "note", visibility=visibility)
    (envelope,) = (e for e in chat.envelopes() if e["Message"].get("Id") == message_id)
    assert _visibility(envelope) == visibility


@pytest.mark.parametrize("visibility", ["AGENT", "CUSTOMER"])
def test_agent_file_is_streamed_with_the_given_visibility_at_every_status(
    chat: Chat, visibility: str
) -> None:
    attachment_id = chat.cloud.agent_sends_file(
        chat.contact_id, PNG_BYTES, "plan.png", "image/png", visibility=visibility
    )
    published = [
        e
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT"
        and e["Message"]["Attachments"][0]["AttachmentId"] == attachment_id
    ]
    assert [_visibility(e) for e in published] == [visibility, visibility]


def test_an_unknown_visibility_is_refused_before_anything_is_streamed(chat: Chat) -> None:
    before = len(chat.envelopes())
    with pytest.raises(ValueError, match="visibility"):
        chat.cloud.agent_sends_text(chat.contact_id, "note", visibility="SUPERVISOR")
    with pytest.raises(ValueError, match="visibility"):
        chat.cloud.agent_sends_file(
            chat.contact_id, PNG_BYTES, "plan.png", "image/png", visibility="all"
        )
    assert len(chat.envelopes()) == before


def test_slow_scan_approves_only_when_the_clock_reaches_it() -> None:
    # A clock that does not tick: the second before the scan is due lasts as long as the test
    # needs, however busy the machine is.
    with Cloud(clock=SandboxClock(1_768_469_400.0, ticking=False)) as cloud:
        chat = start_chat(cloud, customer="15550100401")
        attachment_id = cloud.agent_sends_file(
            chat.contact_id, PNG_BYTES, "plan.png", "image/png", scan_seconds=30
        )
        assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS"]
        with pytest.raises(chat.participant.exceptions.ValidationException):
            chat.participant.get_attachment(
                ConnectionToken=chat.connection_token, AttachmentId=attachment_id
            )
        cloud.clock.advance(29)
        assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS"]
        cloud.clock.advance(1)
        assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS", "APPROVED"]
        got = chat.participant.get_attachment(
            ConnectionToken=chat.connection_token, AttachmentId=attachment_id
        )
        assert chat.cloud.fetch("GET", got["Url"]).content == PNG_BYTES


def test_slow_scan_result_is_streamed_even_after_the_chat_ended(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100402")
    attachment_id = fresh_cloud.agent_sends_file(
        chat.contact_id, PNG_BYTES, "plan.png", "image/png", scan_seconds=60
    )
    fresh_cloud.end_chat(chat.contact_id)
    fresh_cloud.clock.advance(60)
    kinds = [
        e["Message"]["Attachments"][0]["Status"]
        if e["Message"]["Type"] == "ATTACHMENT"
        else e["Message"]["ContentType"]
        for e in chat.envelopes()
        if e["Message"]["Type"] == "ATTACHMENT" or e["Message"]["ContentType"] == ENDED
    ]
    assert kinds == ["IN_PROGRESS", ENDED, "APPROVED"]
    assert _attachment_statuses(chat, attachment_id)[-1] == "APPROVED"


def test_slow_scan_finishes_as_real_time_passes_on_a_ticking_clock(fresh_cloud: Cloud) -> None:
    chat = start_chat(fresh_cloud, customer="15550100403")
    attachment_id = fresh_cloud.agent_sends_file(
        chat.contact_id, PNG_BYTES, "plan.png", "image/png", scan_seconds=0.2
    )
    deadline = time.monotonic() + WAIT_SECONDS
    while _attachment_statuses(chat, attachment_id)[-1:] == ["IN_PROGRESS"]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS", "APPROVED"]


def test_slow_scan_waits_for_an_advance_on_a_clock_that_does_not_tick() -> None:
    with Cloud(clock=SandboxClock(1_768_469_400.0, ticking=False)) as cloud:
        chat = start_chat(cloud, customer="15550100404")
        attachment_id = cloud.agent_sends_file(
            chat.contact_id, PNG_BYTES, "plan.png", "image/png", scan_seconds=0.1
        )
        time.sleep(0.3)
        assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS"]
        cloud.clock.advance(0.1)
        assert _attachment_statuses(chat, attachment_id) == ["IN_PROGRESS", "APPROVED"]
