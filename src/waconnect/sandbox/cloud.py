"""The emulated cloud in one object: End User Messaging, Connect, Participant Service and S3.

Tests, ``waconnect replay`` and the sandbox page drive it: they start it, point unmodified boto3
clients at ``endpoint_url``, act as the customer and the agent, and read back what happened.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import httpx
from botocore.config import Config

from waconnect.domain.whatsapp import Customer
from waconnect.sandbox import defaults, limits
from waconnect.sandbox.blobs import BlobStore
from waconnect.sandbox.chats import Attachment, ChatState, Contact
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.connect_api import ConnectApi
from waconnect.sandbox.envelopes import eum_notification, meta_entry
from waconnect.sandbox.eum_api import EumApi, Media, PhoneNumber, audio_codec
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.meta_send import MEDIA_KINDS
from waconnect.sandbox.participant_api import ParticipantApi, attachment_problem, scan
from waconnect.sandbox.routing import ATTACHMENT_ORIGIN, emulator_transport
from waconnect.sandbox.s3 import S3Server
from waconnect.sandbox.scans import PendingScans
from waconnect.sandbox.server import Dispatcher, ServerThread, build_app
from waconnect.sandbox.signing import UrlSigner
from waconnect.sandbox.state_api import ConnectView, WhatsAppView
from waconnect.sandbox.topics import Topic
from waconnect.sandbox.transfers import AttachmentTransfers

logger = logging.getLogger(__name__)

INBOUND_WORKERS = 4
_VISIBILITIES = frozenset({"AGENT", "CUSTOMER", "ALL"})


class Cloud:
    """All emulators on one port of 127.0.0.1 (plus moto's S3 on another), seeded ids.

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
        self._topics: dict[str, Topic] = {}
        self._topics_lock = threading.Lock()
        # Requests being answered and notifications being delivered, for ``settle``.
        self.inflight = InFlight()
        self._idle_checks: list[Callable[[], bool]] = []
        self._session: boto3.session.Session | None = None
        self._session_lock = threading.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._server: ServerThread | None = None
        self._s3_server = S3Server()
        self._eum: EumApi | None = None
        self._chats: ChatState | None = None
        self._scans: PendingScans | None = None
        self.endpoint_url = ""
        self.s3_endpoint_url = ""
        # SNS delivers a topic's notifications concurrently, so customer messages sent at once
        # reach the bridge at once and its races show here as they would in AWS.
        self.inbound_topic = self.topic(defaults.INBOUND_TOPIC_ARN, workers=INBOUND_WORKERS)
        # Streaming stays on one worker, in publish order: the agent's items of one chat are then
        # seen in the order the agent made them, and a replay's journal reads the same each run.
        self.streaming_topic = self.topic(defaults.STREAMING_TOPIC_ARN)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Cloud:
        if self._server is not None:
            return self
        self._tmp = tempfile.TemporaryDirectory(prefix="waconnect-cloud-")
        blobs = BlobStore(Path(self._tmp.name))
        self.s3_endpoint_url = self._s3_server.start()
        s3 = self.client("s3")
        s3.create_bucket(Bucket=defaults.MEDIA_BUCKET)
        signer = UrlSigner(
            secret=hashlib.sha256(f"sandbox-{self.seed}".encode()).digest(),
            # The shapes AWS hands out; clients reach them through ``http_client``'s transport.
            base_url=lambda: ATTACHMENT_ORIGIN,
            now=self.clock.now,
        )
        self._chats = ChatState(
            ids=self._ids,
            clock=self.clock,
            journal=self.journal,
            topic=self._existing_topic,
            instance_id=defaults.INSTANCE_ID,
            account_id=defaults.ACCOUNT_ID,
        )
        self.clock.on_advance(self._chats.sweep)
        # After the sweep: a scan due at the same jump still reports on a chat that just ended.
        self._scans = PendingScans(chats=self._chats)
        self.clock.on_advance(self._scans.run_due)
        self._eum = EumApi(
            ids=self._ids,
            journal=self.journal,
            blobs=blobs,
            s3=s3,
            now=self.clock.now,
            notify=self.inbound_topic.publish,
            statuses=self.statuses,
            http=self.http_client,
        )
        self._eum.add_number(
            PhoneNumber(
                aws_id=defaults.AWS_PHONE_NUMBER_ID,
                arn=defaults.PHONE_NUMBER_ARN,
                meta_id=defaults.META_PHONE_NUMBER_ID,
                display=defaults.DISPLAY_PHONE_NUMBER,
                waba_id=defaults.WABA_ID,
                waba_arn=defaults.WABA_ARN,
            )
        )
        self._blobs = blobs
        dispatcher = Dispatcher(
            handlers={
                "socialmessaging": self._eum.handlers(),
                "connect": ConnectApi(
                    chats=self._chats,
                    contact_flow_id=defaults.CONTACT_FLOW_ID,
                    topic_exists=lambda arn: self._existing_topic(arn) is not None,
                ).handlers(),
                "connectparticipant": ParticipantApi(
                    chats=self._chats, signer=signer, faults=self.faults
                ).handlers(),
            },
            faults=self.faults,
        )
        self.dispatcher = dispatcher
        transfers = AttachmentTransfers(chats=self._chats, blobs=blobs, signer=signer)
        server = ServerThread(
            build_app(dispatcher=dispatcher, transfers=transfers, inflight=self.inflight)
        )
        port = server.start()
        self._server = server
        self.endpoint_url = f"http://127.0.0.1:{port}"
        logger.info("sandbox cloud on %s, S3 on %s", self.endpoint_url, self.s3_endpoint_url)
        return self

    def stop(self) -> None:
        if self._scans is not None:
            self._scans.close()
            self._scans = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        with self._topics_lock:
            topics = list(self._topics.values())
        for topic in topics:
            topic.close()
        self._s3_server.stop()
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
    def chats(self) -> ChatState:
        if self._chats is None:
            raise RuntimeError("the cloud is not started")
        return self._chats

    @property
    def scans(self) -> PendingScans:
        if self._scans is None:
            raise RuntimeError("the cloud is not started")
        return self._scans

    @property
    def eum(self) -> EumApi:
        if self._eum is None:
            raise RuntimeError("the cloud is not started")
        return self._eum

    @property
    def whatsapp_view(self) -> WhatsAppView:
        """The emulated WhatsApp as its customers see it (sandbox/state_api.py)."""
        return WhatsAppView(self.eum)

    @property
    def connect_view(self) -> ConnectView:
        """The emulated Connect as an agent's workspace sees it (sandbox/state_api.py)."""
        return ConnectView(self.chats)

    # --- topics and settling -------------------------------------------------------------------

    def topic(self, arn: str, *, workers: int = 1) -> Topic:
        """The SNS topic with this ARN, created on first use with ``workers`` delivery threads."""
        with self._topics_lock:
            topic = self._topics.get(arn)
            if topic is None:
                topic = Topic(arn, now=self.clock.now, workers=workers, inflight=self.inflight)
                self._topics[arn] = topic
            return topic

    def _existing_topic(self, arn: str) -> Topic | None:
        with self._topics_lock:
            return self._topics.get(arn)

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
        options: dict[str, Any] = {"retries": {"mode": "standard"}}
        if service_name == "s3":
            options["signature_version"] = "s3v4"
        options.update(config)
        with self._session_lock:
            if self._session is None:
                # One session: building a client from it is far cheaper than from a new one.
                self._session = boto3.session.Session()
            session = self._session
        return session.client(
            service_name,  # type: ignore[call-overload]
            endpoint_url=endpoint,
            region_name=defaults.REGION,
            aws_access_key_id=defaults.ACCESS_KEY_ID,
            aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
            config=Config(**options),
        )

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
        self, media_id: str | None, data: bytes, mime_type: str, *, business: str | None = None
    ) -> str:
        """Media a customer sent, as WhatsApp holds it until the business downloads it.

        Only the receiving business number (``business``, a Meta phone number id; the sandbox's
        own by default) may download it; ``customer_sends`` moves it to the number it is sent to.
        """
        recipient = self._number(business).aws_id
        blob = self._blobs.put_bytes(data, content_type=mime_type)
        eum = self.eum
        with eum.lock:
            media_id = media_id or self._ids.media_id()
        codec = audio_codec(blob) if mime_type.startswith("audio/") else ""
        eum.add_media(
            Media(
                media_id=media_id,
                blob=blob,
                mime_type=mime_type,
                owner="",
                codec=codec,
                recipient=recipient,
            )
        )
        return media_id

    def _number(self, business: str | None) -> PhoneNumber:
        eum = self.eum
        meta_id = business or defaults.META_PHONE_NUMBER_ID
        with eum.lock:
            for number in eum.numbers.values():
                if number.meta_id == meta_id:
                    return number
            suffix = hashlib.sha256(meta_id.encode()).hexdigest()[:32]
            number = PhoneNumber(
                aws_id=f"phone-number-id-{suffix}",
                arn=f"arn:aws:social-messaging:{defaults.REGION}:{defaults.ACCOUNT_ID}:"
                f"phone-number-id/{suffix}",
                meta_id=meta_id,
                display="1555" + meta_id[-7:].rjust(7, "0"),
                waba_id=defaults.WABA_ID,
                waba_arn=defaults.WABA_ARN,
            )
            eum.add_number(number)
            return number

    def customer_sends(
        self,
        customer: Customer,
        message: dict[str, Any],
        *,
        business: str | None = None,
        wamid: str | None = None,
    ) -> str:
        """Publish the EUM notification for one customer message; returns its wamid."""
        number = self._number(business)
        eum = self.eum
        completed = json.loads(json.dumps(message))
        now = self.clock.now()
        with eum.lock:
            wamid = wamid or self._ids.wamid()
            eum.wamid_customers[wamid] = customer.identity
            eum.note_inbound(aws_id=number.aws_id, customer=customer, at=now)
        completed.update({"from": customer.wa_id, "id": wamid, "timestamp": str(int(now))})
        if customer.user_id:
            completed["from_user_id"] = customer.user_id
        self._complete_media(completed, number)
        eum.note_customer_message(
            customer=customer.identity, wamid=wamid, message=completed, at=now
        )
        contact: dict[str, Any] = {"profile": {"name": customer.name}, "wa_id": customer.wa_id}
        if customer.user_id:
            contact["user_id"] = customer.user_id
        entry = meta_entry(
            waba_id=number.waba_id,
            display_phone_number=number.display,
            meta_phone_number_id=number.meta_id,
            contacts=[contact],
            messages=[completed],
        )
        notification = eum_notification(
            entry=entry,
            waba_id=number.waba_id,
            waba_arn=number.waba_arn,
            meta_phone_number_id=number.meta_id,
            phone_number_arn=number.arn,
            account_id=defaults.ACCOUNT_ID,
            timestamp=now,
        )
        self.inbound_topic.publish(notification)
        return wamid

    def note_customer_message(self, wamid: str, customer: Customer) -> None:
        """A message the customer sent outside ``customer_sends`` (a raw payload) is theirs:
        marking it read names them, as for the emulator's own messages."""
        eum = self.eum
        with eum.lock:
            eum.wamid_customers.setdefault(wamid, customer.identity)
            for key in (customer.wa_id, customer.user_id):
                if key:
                    eum.identities.setdefault(key, customer.identity)

    def _complete_media(self, message: dict[str, Any], number: PhoneNumber) -> None:
        kind = message.get("type")
        payload = message.get(kind) if isinstance(kind, str) else None
        if kind not in MEDIA_KINDS or not isinstance(payload, dict) or "id" not in payload:
            return
        eum = self.eum
        with eum.lock:
            media = eum.media.get(str(payload["id"]))
            if media is not None and not media.owner and media.recipient != number.aws_id:
                media = replace(media, recipient=number.aws_id)
                eum.media[media.media_id] = media
        if media is not None:
            payload.setdefault("mime_type", media.mime_type)
            payload.setdefault("sha256", media.blob.sha256)

    def customer_reads(self, wamid: str) -> None:
        """The customer opens a message the business sent them: WhatsApp reports ``read``.

        ValueError for a wamid the business never sent, a message that failed, or a reaction
        (WhatsApp reports only ``sent`` for those).
        """
        self.eum.customer_reads(wamid)

    # --- agent actions -------------------------------------------------------------------------

    def _active(self, contact_id: str) -> Contact:
        contact = self.chats.contact(contact_id)
        if contact.ended:
            raise ValueError(f"chat {contact_id} has ended")
        return contact

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
        _check_visibility(visibility)
        chats = self.chats
        with chats.lock:
            contact = self._active(contact_id)
            agent = chats.agent_of(contact)
            item = chats.add_item(
                contact,
                participant=agent,
                kind="MESSAGE",
                content_type=content_type,
                content=text,
                visibility=visibility,
            )
            return str(item["Id"])

    def agent_sends_typing(self, contact_id: str) -> None:
        chats = self.chats
        with chats.lock:
            contact = self._active(contact_id)
            chats.add_item(
                contact,
                participant=chats.agent_of(contact),
                kind="EVENT",
                content_type=limits.TYPING,
            )

    def agent_sends_file(
        self,
        contact_id: str,
        data: bytes,
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
        _check_visibility(visibility)
        if scan_seconds < 0:
            raise ValueError("scan_seconds cannot be negative")
        chats = self.chats
        blob = self._blobs.put_bytes(data, content_type=content_type)
        with chats.lock:
            contact = self._active(contact_id)
            agent = chats.agent_of(contact)
            attachment = Attachment(
                attachment_id=self._ids.uuid(),
                contact_id=contact_id,
                name=name,
                content_type=content_type,
                size=blob.size,
                participant_id=agent.participant_id,
                blob=blob,
                status="IN_PROGRESS",
            )
            chats.attachments[attachment.attachment_id] = attachment
            contact.attachments.append(attachment.attachment_id)
            chats.add_item(
                contact,
                participant=agent,
                kind="ATTACHMENT",
                content_type=content_type,
                attachments=[
                    {
                        "AttachmentId": attachment.attachment_id,
                        "AttachmentName": name,
                        "ContentType": content_type,
                        "Status": "IN_PROGRESS",
                    }
                ],
                visibility=visibility,
            )
            self.scans.schedule(
                contact=contact,
                attachment=attachment,
                participant=agent,
                status=self.faults.scan_verdict(_agent_file_status(name, data, content_type)),
                seconds=scan_seconds,
                visibility=visibility,
            )
            return attachment.attachment_id

    def end_chat(self, contact_id: str) -> None:
        """The agent ends the chat (a no-op if it already ended)."""
        chats = self.chats
        with chats.lock:
            contact = chats.contact(contact_id)
            if contact.active:
                chats.end(contact, leaving=chats.agent_of(contact))

    def expire_token(self, contact_id: str) -> None:
        """Refuse the chat's current connection tokens from now on; the chat goes on."""
        chats = self.chats
        with chats.lock:
            chats.revoke_connections(chats.contact(contact_id))

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
        with self.eum.lock:
            return self.eum.media[media_id].blob.read()

    def sent_messages(self) -> list[dict[str, Any]]:
        """Every body End User Messaging accepted, in order, including ones that then failed."""
        with self.eum.lock:
            return [json.loads(json.dumps(body)) for body in self.eum.sent]

    def received_messages(self, customer: str | None = None) -> list[dict[str, Any]]:
        """The messages WhatsApp delivered (to ``customer``, an identity, if given), in order."""
        with self.eum.lock:
            return [
                json.loads(json.dumps(body))
                for identity, body in self.eum.received
                if customer is None or identity == customer
            ]

    def message_status(self, wamid: str) -> str | None:
        """WhatsApp's last status for a message the business sent: sent, delivered, read, failed."""
        return self.eum.status_of(wamid)


def _check_visibility(visibility: str) -> None:
    if visibility not in _VISIBILITIES:
        raise ValueError(f"visibility must be one of {sorted(_VISIBILITIES)}, not {visibility!r}")


def _agent_file_status(name: str, data: bytes, content_type: str) -> str:
    if attachment_problem(name, len(data), content_type) is not None:
        return "REJECTED"
    return scan(data[:4096])
