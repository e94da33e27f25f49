"""The emulated cloud in one object: End User Messaging, Connect, Participant Service, Transcribe
(with EventBridge's bus for its job state changes) and S3.

Tests, ``waconnect replay`` and the sandbox page drive it: they start it, point unmodified boto3
clients at ``endpoint_url``, act as the customer and the agent, and read back what happened.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.sandbox import defaults, limits
from waconnect.sandbox.agent_desk import AgentDesk
from waconnect.sandbox.chats import ChatState
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.cloud_clients import SessionClients
from waconnect.sandbox.customer_phone import CustomerPhone
from waconnect.sandbox.emulators import Emulators, Shared, start_emulators
from waconnect.sandbox.eum_api import EumApi
from waconnect.sandbox.event_bus import EventBus
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.routing import emulator_transport
from waconnect.sandbox.scans import PendingScans
from waconnect.sandbox.state_api import ConnectView, WhatsAppView
from waconnect.sandbox.topics import Topic, Topics
from waconnect.sandbox.transcribe_api import TranscribeApi

logger = logging.getLogger(__name__)

INBOUND_WORKERS = 4


class Cloud:
    """All emulators on one port of 127.0.0.1 (plus S3 on another), seeded ids.

    ``statuses`` makes WhatsApp report ``sent``, ``delivered`` and ``read`` statuses of the
    messages the business sends on the inbound topic, as End User Messaging does; a message
    that fails (outside the customer service window) reports ``failed`` either way.
    """

    def __init__(
        self,
        *,
        seed: int = defaults.SEED,
        clock: SandboxClock | None = None,
        statuses: bool = True,
    ) -> None:
        self.seed = seed
        self.statuses = statuses
        self.clock = clock or SandboxClock()
        self.journal = Journal()
        self.faults = Faults()
        self._ids = IdSource(seed)
        # Requests being answered and notifications being delivered, for ``settle``.
        self.inflight = InFlight()
        self._topics = Topics(now=self.clock.now, inflight=self.inflight)
        self._idle_checks: list[Callable[[], bool]] = []
        self._clients = SessionClients()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._emulators: Emulators | None = None
        self.endpoint_url = ""
        self.s3_endpoint_url = ""
        # SNS delivers a topic's notifications concurrently, so customer messages sent at once
        # reach the bridge at once and its races show here as they would in AWS.
        self.inbound_topic = self.topic(defaults.INBOUND_TOPIC_ARN, workers=INBOUND_WORKERS)
        # Streaming stays on one worker, in publish order: the agent's items of one chat are then
        # seen in the order the agent made them, and a replay's journal reads the same each run.
        self.streaming_topic = self.topic(defaults.STREAMING_TOPIC_ARN)
        # EventBridge's default bus: Amazon Transcribe's job state changes.
        self.events = EventBus(
            account=defaults.ACCOUNT_ID,
            region=defaults.REGION,
            now=self.clock.now,
            inflight=self.inflight,
            lost=self.faults.event_lost,
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Cloud:
        if self._emulators is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="waconnect-cloud-")
        shared = Shared(
            seed=self.seed,
            statuses=self.statuses,
            ids=self._ids,
            clock=self.clock,
            journal=self.journal,
            faults=self.faults,
            inflight=self.inflight,
            topics=self._topics,
            inbound_topic=self.inbound_topic,
            events=self.events,
            client=self._clients.client,
            http_client=self.http_client,
        )
        try:
            emulators = start_emulators(shared, Path(self._tmp.name))
        except BaseException:
            self.stop()
            raise
        self._emulators = emulators
        self.numbers_path = emulators.numbers_path
        self.dispatcher = emulators.dispatcher
        self.endpoint_url = emulators.endpoint_url
        self.s3_endpoint_url = emulators.s3_endpoint_url
        logger.info("sandbox cloud on %s, S3 on %s", self.endpoint_url, self.s3_endpoint_url)
        return self

    def stop(self) -> None:
        emulators, self._emulators = self._emulators, None
        # Deliveries still leaving the topics and the event bus may read S3 and call the
        # emulators: both servers stop after them.
        if emulators is not None:
            emulators.scans.close()
        self._topics.close()
        self.events.close()
        if emulators is not None:
            emulators.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Cloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def emulators(self) -> Emulators:
        if self._emulators is None:
            raise RuntimeError("the cloud is not started")
        return self._emulators

    @property
    def chats(self) -> ChatState:
        return self.emulators.chats

    @property
    def scans(self) -> PendingScans:
        return self.emulators.scans

    @property
    def transcribe(self) -> TranscribeApi:
        return self.emulators.transcribe

    @property
    def eum(self) -> EumApi:
        return self.emulators.eum

    @property
    def phone(self) -> CustomerPhone:
        return self.emulators.phone

    @property
    def desk(self) -> AgentDesk:
        return self.emulators.desk

    @property
    def whatsapp_view(self) -> WhatsAppView:
        """The emulated WhatsApp as its customers see it (sandbox/state_api.py)."""
        return WhatsAppView(self.eum.records)

    @property
    def connect_view(self) -> ConnectView:
        """The emulated Connect as an agent's workspace sees it (sandbox/state_api.py)."""
        return ConnectView(self.chats)

    # --- topics and settling -------------------------------------------------------------------

    def topic(self, arn: str, *, workers: int = 1) -> Topic:
        """The SNS topic with this ARN, created on first use with ``workers`` delivery threads."""
        return self._topics.get_or_create(arn, workers=workers)

    def add_idle_check(self, check: Callable[[], bool]) -> None:
        """Something else that must be idle for ``settle`` (e.g. the bridge's own queues)."""
        self._idle_checks.append(check)

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until no request is being answered and no notification is being delivered.

        Every piece of work begins what it causes before it ends itself, so the moment nothing
        is in flight nothing more can happen until someone acts: no quiet spell is needed.
        Extra idle checks are polled. False if that moment did not come within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while True:
            if not self.inflight.wait_idle(max(0.0, deadline - time.monotonic())):
                return False
            if all(check() for check in self._idle_checks) and self.inflight.count == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    # --- clients -------------------------------------------------------------------------------

    def client(self, service_name: str, **config: Any) -> Any:
        """A new boto3 client for this cloud (standard retries; ``config`` overrides Config)."""
        endpoint = self.s3_endpoint_url if service_name == "s3" else self.endpoint_url
        if not endpoint:
            raise RuntimeError("the cloud is not started")
        return self._clients.client(service_name, endpoint, **config)

    def http_client(self, timeout: float = 30.0) -> httpx.Client:
        """An httpx client for the signed URLs this cloud hands out (HTTPS, S3 host shapes).

        Their connections go to the emulators on 127.0.0.1; any other host is refused.
        """
        return httpx.Client(
            transport=emulator_transport(lambda: self.endpoint_url),
            timeout=httpx.Timeout(timeout),
        )

    def fetch(self, method: str, url: str, **options: Any) -> httpx.Response:
        """One request to a signed URL this cloud handed out (``http_client`` for many)."""
        with self.http_client() as client:
            return client.request(method, url, **options)

    # --- customer actions ----------------------------------------------------------------------

    def register_media(
        self,
        media_id: str | None,
        data: bytes | Path,
        mime_type: str,
        *,
        business: str | None = None,
    ) -> str:
        """Media a customer sent, as WhatsApp holds it until the business downloads it.

        Only the receiving business number (``business``, a Meta phone number id; the sandbox's
        own by default) may download it; ``customer_sends`` moves it to the number it is sent to.
        A path is copied a chunk at a time, never read whole.
        """
        return self.phone.register_media(media_id, data, mime_type, business=business)

    def customer_sends(
        self,
        customer: Customer,
        message: dict[str, Any],
        *,
        business: str | None = None,
        wamid: str | None = None,
    ) -> str:
        """Publish the EUM notification for one customer message; returns its wamid."""
        return self.phone.sends(customer, message, business=business, wamid=wamid)

    def note_customer_message(self, wamid: str, customer: Customer) -> None:
        """A message the customer sent outside ``customer_sends`` (a raw payload) is theirs:
        marking it read names them, as for the emulator's own messages."""
        self.eum.records.note_wamid(wamid, customer, known=True)

    def note_business_number(self, business: BusinessNumber) -> None:
        """A raw Meta webhook body arrived on this number: WhatsApp (and the bridge's number
        map, ``numbers_path``) know it from now on, as End User Messaging would."""
        self.eum.records.know_business(business)

    def customer_reads(self, wamid: str) -> None:
        """The customer opens a message the business sent them: WhatsApp reports ``read``.

        ValueError for a wamid the business never sent, a message that failed, or a reaction
        (WhatsApp reports only ``sent`` for those).
        """
        self.eum.customer_reads(wamid)

    # --- agent actions -------------------------------------------------------------------------

    def agent_sends_text(
        self,
        contact_id: str,
        text: str,
        content_type: str = limits.TEXT_PLAIN,
        *,
        visibility: str = "ALL",
    ) -> str:
        """The agent writes in the chat; returns the message id.

        ``visibility`` is the streamed ``MessageVisibility``: CUSTOMER, AGENT (an agent-only
        message the customer must never get) or ALL.
        """
        return self.desk.sends_text(contact_id, text, content_type, visibility=visibility)

    def agent_sends_typing(self, contact_id: str) -> None:
        self.desk.sends_typing(contact_id)

    def agent_sends_file(
        self,
        contact_id: str,
        data: bytes | Path,
        name: str,
        content_type: str,
        *,
        visibility: str = "ALL",
        scan_seconds: float = 0.0,
    ) -> str:
        """The agent attaches a file: IN_PROGRESS, then APPROVED or REJECTED after the scan.

        The scan takes ``scan_seconds`` of the sandbox clock (real time or ``clock.advance``);
        its result is streamed even if the chat ended meanwhile. ``visibility`` as for text.
        """
        return self.desk.sends_file(
            contact_id, data, name, content_type, visibility=visibility, scan_seconds=scan_seconds
        )

    def end_chat(self, contact_id: str) -> None:
        """The agent ends the chat (a no-op if it already ended)."""
        self.desk.end_chat(contact_id)

    def connect_ends_chat(self, contact_id: str) -> None:
        """Connect ends the chat with no participant leaving first."""
        self.desk.connect_ends_chat(contact_id)

    def expire_token(self, contact_id: str) -> None:
        """Refuse the chat's current connection tokens from now on; the chat goes on."""
        self.desk.expire_token(contact_id)

    def limit_active_chats(self, quota: int) -> None:
        """StartChatContact refuses new chats past ``quota`` active ones (0: no quota)."""
        chats = self.chats
        with chats.lock:
            chats.active_chat_quota = quota

    # --- queries -------------------------------------------------------------------------------

    def active_contact(self, customer_identity: str) -> str | None:
        contact = self.chats.active_for(customer_identity)
        return contact.contact_id if contact is not None else None

    def transcript(self, contact_id: str) -> list[dict[str, Any]]:
        with self.chats.lock:
            return [dict(item) for item in self.chats.contact(contact_id).transcript]

    def attachment_bytes(self, attachment_id: str) -> bytes:
        with self.chats.lock:
            attachment = self.chats.attachments.get(attachment_id)
        if attachment is None or attachment.blob is None:
            raise KeyError(attachment_id)
        return attachment.blob.read()

    def media_bytes(self, media_id: str) -> bytes:
        return self.whatsapp_view.media(media_id).path.read_bytes()

    def sent_messages(self) -> list[dict[str, Any]]:
        """Every body End User Messaging accepted, in order, including ones that then failed."""
        records = self.eum.records
        with records.lock:
            return [json.loads(json.dumps(body)) for body in records.sent]

    def received_messages(self, customer: str | None = None) -> list[dict[str, Any]]:
        """The messages WhatsApp delivered (to ``customer``, an identity, if given), in order."""
        records = self.eum.records
        with records.lock:
            return [
                json.loads(json.dumps(body))
                for identity, body in records.received
                if customer is None or identity == customer
            ]

    def message_status(self, wamid: str) -> str | None:
        """WhatsApp's last status for a message the business sent: sent, delivered, read, failed."""
        return self.eum.records.status_of(wamid)
