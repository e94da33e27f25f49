"""The ConnectChat contract: what the services may rely on, whichever implementation they get.

Runs over the in-memory fake and over AwsConnectChat talking to the sandbox's Connect and
Participant Service emulators through real HTTP.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from tests.fakes import InMemoryMediaStore
from tests.fakes_remote import RecordingConnectChat
from waconnect.adapters.aws.connect import AwsConnectChat
from waconnect.adapters.transfers import SignedUrlTransfers
from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError, SessionEnded
from waconnect.ports import ConnectChat, MediaStore
from waconnect.sandbox import defaults

BUSINESS = BusinessNumber(
    meta_phone_number_id=defaults.META_PHONE_NUMBER_ID,
    display_phone_number=defaults.DISPLAY_PHONE_NUMBER,
    waba_id=defaults.WABA_ID,
    aws_phone_number_id=defaults.AWS_PHONE_NUMBER_ID,
)
_customers = itertools.count(1)


class ConnectSide(Protocol):
    """A ConnectChat plus the controls and views of the agent's side of it."""

    chat: ConnectChat
    store: MediaStore

    def expire_token(self, contact_id: str) -> None: ...

    def end_chat(self, contact_id: str) -> None: ...

    def texts(self, contact_id: str) -> list[str]:
        """Customer messages the agent sees, in order."""
        ...

    def files(self, contact_id: str) -> list[tuple[str, bytes]]:
        """Customer attachments the agent sees: (name, bytes)."""
        ...

    def agent_sends_file(self, contact_id: str, data: bytes, name: str, content_type: str) -> str:
        """The agent attaches a file; returns its attachment id."""
        ...


@dataclass
class FakeSide:
    store: InMemoryMediaStore = field(default_factory=InMemoryMediaStore)
    fake: RecordingConnectChat = field(init=False)

    def __post_init__(self) -> None:
        self.fake = RecordingConnectChat(store=self.store)

    @property
    def chat(self) -> ConnectChat:
        return self.fake

    def expire_token(self, contact_id: str) -> None:
        self.fake.expire_connections(contact_id)

    def end_chat(self, contact_id: str) -> None:
        self.fake.end_chat(contact_id)

    def texts(self, contact_id: str) -> list[str]:
        return self.fake.chats[contact_id].messages()

    def files(self, contact_id: str) -> list[tuple[str, bytes]]:
        return [(e.name, e.data) for e in self.fake.chats[contact_id].attachments()]

    def agent_sends_file(self, contact_id: str, data: bytes, name: str, content_type: str) -> str:
        return self.fake.agent_attach(contact_id, name=name, content_type=content_type, data=data)


class CloudConnectSide:
    """AwsConnectChat over boto3 and httpx, against the sandbox emulators on 127.0.0.1."""

    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.store = InMemoryMediaStore()
        self._http = cloud.http_client(10)
        self.chat = AwsConnectChat(
            cloud.client("connect"),
            cloud.client("connectparticipant"),
            SignedUrlTransfers(self._http),
            self.store,
            instance_id=defaults.INSTANCE_ID,
            contact_flow_id=defaults.CONTACT_FLOW_ID,
            streaming_topic_arn=defaults.STREAMING_TOPIC_ARN,
            clock=SystemClock(),
        )

    def close(self) -> None:
        self._http.close()

    def expire_token(self, contact_id: str) -> None:
        self.cloud.expire_token(contact_id)

    def end_chat(self, contact_id: str) -> None:
        self.cloud.end_chat(contact_id)

    def _customer_items(self, contact_id: str) -> list[dict[str, Any]]:
        return [
            item
            for item in self.cloud.transcript(contact_id)
            if item.get("ParticipantRole") == "CUSTOMER"
        ]

    def texts(self, contact_id: str) -> list[str]:
        return [
            item["Content"]
            for item in self._customer_items(contact_id)
            if item.get("Type") == "MESSAGE"
        ]

    def files(self, contact_id: str) -> list[tuple[str, bytes]]:
        return [
            (attachment["AttachmentName"], self.cloud.attachment_bytes(attachment["AttachmentId"]))
            for item in self._customer_items(contact_id)
            if item.get("Type") == "ATTACHMENT"
            for attachment in item.get("Attachments", [])
        ]

    def agent_sends_file(self, contact_id: str, data: bytes, name: str, content_type: str) -> str:
        return str(self.cloud.agent_sends_file(contact_id, data, name, content_type))


class SystemClock:
    def now(self) -> float:
        return time.time()


@pytest.fixture(params=["fake", "aws-over-emulator"])
def side(request: pytest.FixtureRequest) -> Iterator[ConnectSide]:
    if request.param == "fake":
        yield FakeSide()
        return
    cloud_side = CloudConnectSide(request.getfixturevalue("cloud"))
    yield cloud_side
    cloud_side.close()


def new_customer() -> Customer:
    n = next(_customers)
    return Customer(wa_id=f"1555010{n:04d}", name=f"Contract Customer {n}")


def open_chat(side: ConnectSide, *, token: str = "") -> tuple[str, str, str]:
    """Start a chat and connect: (contact id, participant token, connection token)."""
    customer = new_customer()
    started = side.chat.start_chat(
        business=BUSINESS, customer=customer, client_token=token or f"start:{customer.wa_id}"
    )
    connection = side.chat.connect(started.participant_token)
    return started.contact_id, started.participant_token, connection.token


def test_the_same_start_token_twice_opens_one_chat(side: ConnectSide) -> None:
    customer = new_customer()
    first = side.chat.start_chat(business=BUSINESS, customer=customer, client_token="s-twice")
    again = side.chat.start_chat(business=BUSINESS, customer=customer, client_token="s-twice")
    assert again.contact_id == first.contact_id


def test_a_connection_expires_in_the_future(side: ConnectSide) -> None:
    customer = new_customer()
    started = side.chat.start_chat(business=BUSINESS, customer=customer, client_token="s-expiry")
    connection = side.chat.connect(started.participant_token)
    assert connection.token
    assert connection.expiry > 1_700_000_000


def test_a_message_reaches_the_agent(side: ConnectSide) -> None:
    contact_id, _, token = open_chat(side)
    message_id = side.chat.send_message(token, text="Hello 👋 I need help", client_token="m-1")
    assert message_id
    assert side.texts(contact_id) == ["Hello 👋 I need help"]


def test_the_same_client_token_twice_delivers_one_message(side: ConnectSide) -> None:
    contact_id, _, token = open_chat(side)
    first = side.chat.send_message(token, text="only once", client_token="m-dup")
    second = side.chat.send_message(token, text="only once", client_token="m-dup")
    assert second == first
    assert side.texts(contact_id) == ["only once"]


def test_an_expired_connection_token_means_session_ended_until_reconnected(
    side: ConnectSide,
) -> None:
    contact_id, participant_token, token = open_chat(side)
    side.expire_token(contact_id)
    with pytest.raises(SessionEnded):
        side.chat.send_message(token, text="late", client_token="m-late")
    fresh = side.chat.connect(participant_token)
    side.chat.send_message(fresh.token, text="after refresh", client_token="m-fresh")
    assert side.texts(contact_id) == ["after refresh"]


def test_an_ended_chat_means_session_ended(side: ConnectSide) -> None:
    contact_id, participant_token, token = open_chat(side)
    side.end_chat(contact_id)
    with pytest.raises(SessionEnded):
        side.chat.send_message(token, text="too late", client_token="m-ended")
    with pytest.raises(SessionEnded):
        side.chat.connect(participant_token)


def test_an_attachment_reaches_the_agent_with_its_bytes_and_name(side: ConnectSide) -> None:
    contact_id, _, token = open_chat(side)
    data = b"%PDF-1.7\n" + bytes(range(256)) * 300 + b"\n%%EOF\n"
    stored = side.store.put("contract/in/invoice", [data], content_type="application/pdf")
    attachment_id = side.chat.send_attachment(
        token, stored, name="invoice 2026.pdf", client_token="f-1"
    )
    assert attachment_id
    ((name, received),) = side.files(contact_id)
    assert name == "invoice 2026.pdf"
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(data).hexdigest()


def test_an_agents_file_is_fetched_with_its_bytes(side: ConnectSide) -> None:
    contact_id, _, token = open_chat(side)
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 100
    attachment_id = side.agent_sends_file(contact_id, data, "screenshot.png", "image/png")
    downloaded = side.chat.get_attachment(
        token, attachment_id, name="screenshot.png", content_type="image/png", key="contract/out/"
    )
    assert downloaded.name == "screenshot.png"
    assert downloaded.stored.size == len(data)
    with side.store.open(downloaded.stored) as chunks:
        assert hashlib.sha256(b"".join(chunks)).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_file_type_connect_refuses_is_permanent(side: ConnectSide) -> None:
    contact_id, _, token = open_chat(side)
    stored = side.store.put("contract/in/voice", [b"OggS" + b"\0" * 60], content_type="audio/ogg")
    with pytest.raises(PermanentError):
        side.chat.send_attachment(token, stored, name="voice.ogg", client_token="f-ogg")
    assert side.files(contact_id) == []


def test_events_are_accepted_on_an_open_chat(side: ConnectSide) -> None:
    _, _, token = open_chat(side)
    event_id = side.chat.send_event(
        token,
        content_type="application/vnd.amazonaws.connect.event.typing",
        content="",
        client_token="e-1",
    )
    assert isinstance(event_id, str)


def test_disconnecting_ends_the_customers_side(side: ConnectSide) -> None:
    _, _, token = open_chat(side)
    side.chat.disconnect(token, client_token="bye-1")
    with pytest.raises(SessionEnded):
        side.chat.send_message(token, text="after leaving", client_token="m-gone")


def test_a_fresh_process_sending_a_completed_attachment_again_finds_it_in_the_chat(
    cloud: Any,
) -> None:
    """A worker died right after CompleteAttachmentUpload, before recording the part: the next
    worker (a new adapter, nothing remembered) sends it with the same token. The upload URL is
    closed by then; the file is in the chat once, and the send succeeds."""
    first, second = CloudConnectSide(cloud), CloudConnectSide(cloud)
    try:
        contact_id, _, token = open_chat(first)
        data = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
        for side in (first, second):
            stored = side.store.put("contract/in/again", [data], content_type="application/pdf")
            attached = side.chat.send_attachment(
                token, stored, name="again.pdf", client_token="f-again"
            )
        assert attached
        [(name, received)] = first.files(contact_id)
        assert (name, received) == ("again.pdf", data)
    finally:
        first.close()
        second.close()
