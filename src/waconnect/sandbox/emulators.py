"""The sandbox cloud's emulators, wired to each other and served on 127.0.0.1.

End User Messaging, Connect, the Participant Service and Transcribe answer on one port (one
dispatcher by service name, plus the attachment transfers); S3 on a port of its own. ``Cloud``
owns what outlives a start (clock, journal, faults, topics, the event bus) and hands it in here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from waconnect.sandbox import defaults
from waconnect.sandbox.agent_desk import AgentDesk
from waconnect.sandbox.blobs import BlobStore
from waconnect.sandbox.chats import ChatState
from waconnect.sandbox.clock import SandboxClock
from waconnect.sandbox.connect_api import ConnectApi
from waconnect.sandbox.customer_phone import CustomerPhone
from waconnect.sandbox.eum_api import EumApi
from waconnect.sandbox.eum_records import PhoneNumber
from waconnect.sandbox.event_bus import EventBus
from waconnect.sandbox.faults import Faults
from waconnect.sandbox.ids import IdSource
from waconnect.sandbox.inflight import InFlight
from waconnect.sandbox.journal import Journal
from waconnect.sandbox.number_map import write_numbers
from waconnect.sandbox.participant_api import ParticipantApi
from waconnect.sandbox.routing import ATTACHMENT_ORIGIN
from waconnect.sandbox.s3_api import build_s3_app
from waconnect.sandbox.s3_store import S3Store
from waconnect.sandbox.scans import PendingScans
from waconnect.sandbox.server import Dispatcher, ServerThread, build_app
from waconnect.sandbox.signing import UrlSigner
from waconnect.sandbox.topics import Topic, Topics
from waconnect.sandbox.transcribe_api import TranscribeApi
from waconnect.sandbox.transfers import AttachmentTransfers


@dataclass(frozen=True, slots=True, kw_only=True)
class Shared:
    """What the emulators share with the ``Cloud`` that starts them."""

    seed: int
    statuses: bool
    ids: IdSource
    clock: SandboxClock
    journal: Journal
    faults: Faults
    inflight: InFlight
    topics: Topics
    inbound_topic: Topic
    events: EventBus
    # A boto3 client for a service at an endpoint; an httpx client for the signed URLs.
    client: Callable[[str, str], Any]
    http_client: Callable[[], httpx.Client]


@dataclass(frozen=True, slots=True, kw_only=True)
class Emulators:
    chats: ChatState
    scans: PendingScans
    eum: EumApi
    phone: CustomerPhone
    desk: AgentDesk
    transcribe: TranscribeApi
    dispatcher: Dispatcher
    server: ServerThread
    s3_server: ServerThread
    endpoint_url: str
    s3_endpoint_url: str
    numbers_path: Path

    def stop(self) -> None:
        """Stop both servers together: each takes a tick of its event loop to notice."""
        self.scans.close()
        self.server.request_stop()
        self.s3_server.request_stop()
        self.server.stop()
        self.s3_server.stop()


def start_emulators(shared: Shared, workdir: Path) -> Emulators:
    """Build every emulator over ``workdir`` (blobs, business numbers, Transcribe's files) and
    start both servers; ``Emulators.stop`` leaves the S3 server to the caller to stop last."""
    blobs = BlobStore(workdir)
    # S3 keeps its objects as blobs on disk too, streamed both ways (sandbox/s3_api.py).
    s3_store = S3Store(blobs)
    s3_store.create_bucket(defaults.MEDIA_BUCKET)
    s3_server = ServerThread(build_s3_app(s3_store))
    s3_endpoint_url = f"http://127.0.0.1:{s3_server.start()}"
    try:
        return _serve(shared, workdir, blobs, s3_server, s3_endpoint_url)
    except BaseException:
        s3_server.stop()
        raise


def _serve(
    shared: Shared, workdir: Path, blobs: BlobStore, s3_server: ServerThread, s3_endpoint_url: str
) -> Emulators:
    numbers_path = workdir / "business-numbers.json"
    s3 = shared.client("s3", s3_endpoint_url)
    clock = shared.clock
    signer = UrlSigner(
        secret=hashlib.sha256(f"sandbox-{shared.seed}".encode()).digest(),
        # The shapes AWS hands out; clients reach them through ``http_client``'s transport.
        base_url=lambda: ATTACHMENT_ORIGIN,
        now=clock.now,
    )
    topics = shared.topics
    chats = ChatState(
        ids=shared.ids,
        clock=clock,
        journal=shared.journal,
        topic=topics.existing,
        instance_id=defaults.INSTANCE_ID,
        account_id=defaults.ACCOUNT_ID,
    )
    clock.on_advance(chats.sweep)
    # After the sweep: a scan due at the same jump still reports on a chat that just ended.
    scans = PendingScans(chats=chats)
    clock.on_advance(scans.run_due)
    eum = EumApi(
        ids=shared.ids,
        journal=shared.journal,
        blobs=blobs,
        s3=s3,
        now=clock.now,
        notify=shared.inbound_topic.publish,
        statuses=shared.statuses,
        http=shared.http_client,
    )
    eum.records.on_numbers = lambda numbers: write_numbers(numbers_path, numbers)
    eum.records.add_number(
        PhoneNumber(
            aws_id=defaults.AWS_PHONE_NUMBER_ID,
            arn=defaults.PHONE_NUMBER_ARN,
            meta_id=defaults.META_PHONE_NUMBER_ID,
            display=defaults.DISPLAY_PHONE_NUMBER,
            waba_id=defaults.WABA_ID,
            waba_arn=defaults.WABA_ARN,
        )
    )
    phone = CustomerPhone(
        eum=eum, ids=shared.ids, blobs=blobs, clock=clock, topic=shared.inbound_topic
    )
    desk = AgentDesk(chats=chats, scans=scans, blobs=blobs, ids=shared.ids, faults=shared.faults)
    # Transcribe reads the note from S3, writes the transcript there, and announces the job's
    # end on the event bus, as Amazon Transcribe does on EventBridge's default bus.
    transcribe = TranscribeApi(
        s3=s3,
        events=shared.events,
        inflight=shared.inflight,
        now=clock.now,
        workdir=workdir / "transcribe",
        region=defaults.REGION,
        account=defaults.ACCOUNT_ID,
    )
    dispatcher = Dispatcher(
        handlers={
            "socialmessaging": eum.handlers(),
            "connect": ConnectApi(
                chats=chats,
                contact_flow_id=defaults.CONTACT_FLOW_ID,
                topic_exists=lambda arn: topics.existing(arn) is not None,
            ).handlers(),
            "connectparticipant": ParticipantApi(
                chats=chats, signer=signer, faults=shared.faults
            ).handlers(),
            "transcribe": transcribe.handlers(),
        },
        faults=shared.faults,
    )
    transfers = AttachmentTransfers(chats=chats, blobs=blobs, signer=signer)
    server = ServerThread(
        build_app(dispatcher=dispatcher, transfers=transfers, inflight=shared.inflight)
    )
    port = server.start()
    return Emulators(
        chats=chats,
        scans=scans,
        eum=eum,
        phone=phone,
        desk=desk,
        transcribe=transcribe,
        dispatcher=dispatcher,
        server=server,
        s3_server=s3_server,
        endpoint_url=f"http://127.0.0.1:{port}",
        s3_endpoint_url=s3_endpoint_url,
        numbers_path=numbers_path,
    )
