"""The composition root: the one place that picks the adapters the bridge runs on.

``build_bridge`` turns ``Settings`` into a working ``Bridge``: boto3 clients (explicit timeouts,
botocore's own retries off: the bridge's are the only layer, so the two never multiply; the
emulators' endpoint when one is set), End User Messaging for WhatsApp, Connect and its
Participant Service, S3 for media, SQLite or DynamoDB for state, PyAV for conversion. Nothing
here runs at import time; callers build once and keep the result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from waconnect.adapters.aws.connect import AwsConnectChat
from waconnect.adapters.aws.dynamodb import DynamoDbMessageLog, DynamoDbSessionStore
from waconnect.adapters.aws.dynamodb_kept import DynamoDbRetryStore
from waconnect.adapters.aws.dynamodb_ledger import DynamoDbLedger
from waconnect.adapters.aws.dynamodb_transcripts import DynamoDbTranscriptJobs
from waconnect.adapters.aws.eum import EumWhatsApp
from waconnect.adapters.aws.s3 import S3MediaStore
from waconnect.adapters.on_demand_adapters import ConverterOnDemand, TransfersOnDemand
from waconnect.entrypoints.bridge import Bridge
from waconnect.entrypoints.retry_policy import RetryPolicy
from waconnect.media.policy import ConnectLimits
from waconnect.ports import (
    Clock,
    Converter,
    Ledger,
    MediaStore,
    MessageLog,
    RetryStore,
    SessionStore,
    Transcriber,
    TranscriptChecks,
    TranscriptFollowUps,
    TranscriptJobs,
)
from waconnect.services.chats import ChatLifecycle
from waconnect.services.delivery import Delivery
from waconnect.services.feedback import FeedbackSettings
from waconnect.services.inbound import InboundService
from waconnect.services.outbound import OutboundService
from waconnect.services.ports_bundle import BridgePorts
from waconnect.services.transcript_checks import OverdueTranscripts
from waconnect.services.transcript_events import TranscriptEvents
from waconnect.services.transcripts import TranscriptSettings, VoiceTranscripts
from waconnect.settings import Settings

if TYPE_CHECKING:
    import httpx

    from waconnect.adapters.transfers import SignedUrlTransfers

# One attempt per botocore call: retrying is the bridge's job (RetryPolicy), which knows which
# requests are safe to repeat; botocore would also retry StartChatContact's active-chat quota.
BOTOCORE_ATTEMPTS = 1


class SystemClock:
    def now(self) -> float:
        return time.time()


def build_bridge(
    settings: Settings,
    *,
    clock: Clock | None = None,
    boto_session: boto3.session.Session | None = None,
    http: httpx.Client | None = None,
    retry: RetryPolicy | None = None,
    wrap_converter: Callable[[Converter], Converter] | None = None,
    follow_ups: TranscriptFollowUps | None = None,
) -> Bridge:
    """A bridge wired to AWS (or to the emulators at ``settings.endpoint_url``).

    ``wrap_converter`` decorates the file converter (the Lambda functions count conversions).
    ``follow_ups``: where the checks of transcription jobs are posted (the Lambda functions'
    queue); None: the bridge's ``run_due`` checks the jobs in its state.
    """
    clock = clock or SystemClock()
    session = boto_session or boto3.session.Session(region_name=settings.region)
    config = Config(
        region_name=settings.region,
        retries={"mode": "standard", "total_max_attempts": BOTOCORE_ATTEMPTS},
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
    )

    def client(name: str, endpoint_url: str, extra: Config | None = None) -> Any:
        merged = config.merge(extra) if extra is not None else config
        return session.client(name, config=merged, endpoint_url=endpoint_url or None)  # type: ignore[call-overload]

    s3 = client("s3", settings.s3_endpoint_url, Config(signature_version="s3v4"))
    media = S3MediaStore(s3, settings.media_bucket, prefix=settings.media_prefix, clock=clock)
    closers: list[Callable[[], None]] = []
    dynamodb_url = settings.dynamodb_endpoint_url or settings.endpoint_url
    sessions, ledger, message_log = _state(
        settings, clock, lambda: client("dynamodb", dynamodb_url), closers
    )
    whatsapp = EumWhatsApp(
        client("socialmessaging", settings.endpoint_url),
        media,
        s3_bucket=settings.media_bucket,
        s3_prefix=settings.media_prefix,
        meta_api_version=settings.meta_api_version,
        phone_numbers=settings.eum_phone_numbers,
    )
    transfers = _transfers(settings, http, closers)
    connect = AwsConnectChat(
        client("connect", settings.endpoint_url),
        client("connectparticipant", settings.endpoint_url),
        transfers,
        media,
        instance_id=settings.connect_instance_id,
        contact_flow_id=settings.contact_flow_id,
        streaming_topic_arn=settings.streaming_topic_arn,
        clock=clock,
        chat_duration_minutes=settings.chat_duration_minutes,
    )
    converter: Converter = _converter(settings, media)
    if wrap_converter is not None:
        converter = wrap_converter(converter)
    ports = BridgePorts(
        sessions=sessions,
        ledger=ledger,
        media=media,
        whatsapp=whatsapp,
        connect=connect,
        converter=converter,
        clock=clock,
        message_log=message_log,
    )
    jobs: TranscriptJobs | None = None
    checks: TranscriptChecks | None = None
    if settings.transcription == "transcribe":
        jobs, checks = _transcript_jobs(
            settings,
            clock,
            lambda: client("dynamodb", dynamodb_url),
            closers,
            checked_here=follow_ups is None,
        )
    transcriber = _transcriber(
        settings, lambda: client("transcribe", settings.endpoint_url), s3, media
    )
    transcripts = (
        None
        if transcriber is None
        else VoiceTranscripts(
            transcriber,
            whatsapp=whatsapp,
            ledger=ledger,
            settings=TranscriptSettings(
                language=settings.language,
                languages=tuple(settings.transcribe_languages.items()),
                echo_to_customer=settings.transcript_echo,
            ),
            jobs=jobs,
            clock=clock,
            follow_ups=follow_ups,
        )
    )
    inbound = InboundService(
        ports,
        transcripts=transcripts,
        stickers=settings.stickers,
        feedback=FeedbackSettings(
            mark_read=settings.mark_read,
            file_reaction=settings.file_reaction,
            failure_reaction=settings.failure_reaction,
            failure_text=settings.failure_text,
            queued_text=settings.queued_text,
        ),
        limits=ConnectLimits(
            allowed_extensions=frozenset(settings.connect_allowed_extensions),
            max_bytes=settings.connect_max_attachment_bytes,
        ),
        remember_snippets=settings.remember_snippets,
        lease_seconds=settings.lease_seconds,
        connect_text_limit=settings.connect_text_max_chars,
    )
    outbound = OutboundService(
        ports,
        remember_snippets=settings.remember_snippets,
        mark_read=settings.mark_read,
        lease_seconds=settings.lease_seconds,
    )
    retry = retry or RetryPolicy(
        attempts=settings.retry_attempts,
        max_age=settings.retry_max_age_seconds,
        later=settings.retry_base_delay_seconds,
        max_later=settings.retry_max_delay_seconds,
    )
    # Deferred documents are kept beside the state: in the SQLite file, or in the DynamoDB
    # ledger table. On Lambda the queue (SQS) keeps them instead and this store stays unused.
    kept: RetryStore
    if settings.uses_dynamodb:
        kept = DynamoDbRetryStore(client("dynamodb", dynamodb_url), settings.dynamodb_tables[1])
    else:
        from waconnect.adapters.local.sqlite_kept import SqliteRetryStore  # noqa: PLC0415

        sqlite_kept = SqliteRetryStore(settings.sqlite_path)
        closers.append(sqlite_kept.close)
        kept = sqlite_kept
    events = (
        None
        if transcripts is None or jobs is None
        else TranscriptEvents(
            transcripts,
            jobs=jobs,
            sessions=sessions,
            chats=ChatLifecycle(sessions=sessions, connect=connect, clock=clock),
            delivery=Delivery(
                ledger=ledger,
                connect=connect,
                whatsapp=whatsapp,
                lease_seconds=settings.lease_seconds,
            ),
            ledger=ledger,
            clock=clock,
            checks=checks,
            check_seconds=settings.transcript_check_seconds,
            connect_text_limit=settings.connect_text_max_chars,
        )
    )
    return Bridge(
        inbound,
        outbound,
        retry=retry,
        closers=closers,
        instance_id=settings.connect_instance_id,
        kept=kept,
        clock=clock.now,
        transcripts=events,
        overdue=None
        if events is None or checks is None
        else OverdueTranscripts(events, checks, check_seconds=settings.transcript_check_seconds),
    )


def _transcript_jobs(
    settings: Settings,
    clock: Clock,
    dynamodb: Any,
    closers: list[Callable[[], None]],
    *,
    checked_here: bool,
) -> tuple[TranscriptJobs, TranscriptChecks | None]:
    """Where voice notes wait for their transcript: beside the rest of the state. With
    ``checked_here`` the same store keeps when to check each job (else a queue brings them)."""
    if settings.uses_dynamodb:
        if not checked_here:
            return DynamoDbTranscriptJobs(dynamodb(), settings.dynamodb_tables[1], clock), None
        from waconnect.adapters.aws.dynamodb_transcript_checks import (  # noqa: PLC0415
            DynamoDbCheckedTranscriptJobs,
        )

        checked = DynamoDbCheckedTranscriptJobs(
            dynamodb(),
            settings.dynamodb_tables[1],
            clock,
            check_after_seconds=settings.transcript_check_seconds,
        )
        return checked, checked
    from waconnect.adapters.local.sqlite_transcripts import SqliteTranscriptJobs  # noqa: PLC0415

    jobs = SqliteTranscriptJobs(
        settings.sqlite_path,
        clock,
        check_after_seconds=settings.transcript_check_seconds if checked_here else None,
    )
    closers.append(jobs.close)
    return jobs, jobs if checked_here else None


def _transcriber(
    settings: Settings, transcribe: Callable[[], Any], s3: Any, media: MediaStore
) -> Transcriber | None:
    """The engine ``WACONNECT_TRANSCRIPTION`` names; each is imported only when chosen."""
    if settings.transcription == "transcribe":
        from waconnect.adapters.aws.transcribe import AmazonTranscribe  # noqa: PLC0415

        return AmazonTranscribe(
            transcribe(),
            s3,
            bucket=settings.media_bucket,
            object_key=lambda key: settings.media_prefix + key,
            output_prefix=f"{settings.media_prefix}transcripts/",
            language_options=settings.transcribe_language_options,
        )
    if settings.transcription == "pocketsphinx":
        from waconnect.media.transcribe import PocketsphinxTranscriber  # noqa: PLC0415

        return PocketsphinxTranscriber(media, max_seconds=settings.transcribe_max_seconds)
    return None


def _transfers(
    settings: Settings, http: httpx.Client | None, closers: list[Callable[[], None]]
) -> TransfersOnDemand:
    """Signed-URL transfers, made with their HTTP client on the first file (a text never
    loads httpx)."""
    made: list[httpx.Client] = []

    def make() -> SignedUrlTransfers:
        import httpx  # noqa: PLC0415

        from waconnect.adapters.transfers import SignedUrlTransfers  # noqa: PLC0415

        client = http
        if client is None:
            client = httpx.Client(
                timeout=httpx.Timeout(
                    settings.read_timeout_seconds, connect=settings.connect_timeout_seconds
                )
            )
            made.append(client)  # a client the caller passed in stays the caller's
        return SignedUrlTransfers(client, allow_http_loopback=settings.allow_http_loopback)

    def close() -> None:
        for client in made:
            client.close()

    closers.append(close)
    return TransfersOnDemand(make)


def _converter(settings: Settings, media: MediaStore) -> ConverterOnDemand:
    """The PyAV converter, made on the first conversion (a text never loads the media code)."""

    def make() -> Converter:
        from waconnect.media.convert import ConversionLimits, PyAvConverter  # noqa: PLC0415

        limits = ConversionLimits(
            max_part_bytes=settings.connect_max_attachment_bytes,
            max_audio_seconds=settings.max_audio_seconds,
        )
        return PyAvConverter(media, limits=limits)

    return ConverterOnDemand(make)


def _state(
    settings: Settings, clock: Clock, dynamodb: Any, closers: list[Callable[[], None]]
) -> tuple[SessionStore, Ledger, MessageLog]:
    if settings.uses_dynamodb:
        sessions_table, ledger_table = settings.dynamodb_tables
        client = dynamodb()
        return (
            DynamoDbSessionStore(client, sessions_table),
            DynamoDbLedger(client, ledger_table, clock),
            DynamoDbMessageLog(client, settings.message_log_table, clock),
        )
    from waconnect.adapters.local.sqlite import (  # noqa: PLC0415 (not loaded on AWS)
        SqliteLedger,
        SqliteMessageLog,
        SqliteSessionStore,
    )
    from waconnect.adapters.local.sqlite_database import SqliteDatabase  # noqa: PLC0415

    database = SqliteDatabase(settings.sqlite_path)
    closers.append(database.close)
    return (
        SqliteSessionStore(database),
        SqliteLedger(database, clock),
        SqliteMessageLog(database, clock),
    )
