"""A local Lambda harness: the serverless deployment's event flow, in this process.

    emulated SNS topic ─▶ ingest ─▶ SQS FIFO (moto) ─▶ event source ─▶ inbound ─▶ emulators
    emulated streaming topic ─▶ agent_ingest ─▶ SQS FIFO (moto) ─▶ event source ─▶ outbound
    emulated event bus (Transcribe) ─▶ rule ─▶ SQS standard (moto) ─▶ event source ─▶ transcribed

It plays what AWS plays between the functions: an SNS subscription invokes ``ingest`` (and
``agent_ingest``) asynchronously, retried twice on error; an event source mapping per FIFO queue
receives batches (message groups in flight are held back by SQS itself), invokes the handler
with an SQS event, deletes what the partial batch response does not name, and leaves the rest
to reappear after its visibility timeout; SQS moves a message to the dead-letter queue once it
was received ``maxReceiveCount`` times. The handlers are the real ones
(``waconnect.entrypoints.lambda_handlers``), with a runtime wired to moto's SQS and DynamoDB
(on the cloud's moto server) and to the emulators. One handler runs at a time.

``crash_at(operation)`` kills the next invocation that makes that AWS call, right after the
service handled it and before the function reads the answer; the next invocation runs in a
fresh container, as on Lambda.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import boto3
import httpx

from waconnect.entrypoints import lambda_handlers
from waconnect.entrypoints.lambda_handlers.runtime import (
    LOG_SINK,
    SERVICE,
    Runtime,
    build_runtime,
    install,
)
from waconnect.entrypoints.lambda_handlers.schedule import RetrySchedule
from waconnect.errors import MalformedPayload
from waconnect.sandbox import defaults
from waconnect.sandbox.lambda_events import FifoEventSource, Recorder, sns_envelope
from waconnect.sandbox.lambda_invoker import Handler, Invoker
from waconnect.sandbox.lambda_resources import Queue, Resources, create_resources
from waconnect.sandbox.moto_server import MotoServer
from waconnect.sandbox.number_map import NumberFile
from waconnect.services.outcome import Outcome
from waconnect.settings import Settings
from waconnect.wire.inbound import classify
from waconnect.wire.sns import SnsSubscriptionMessage, build_lambda_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

    from waconnect.sandbox.cloud import Cloud

logger = logging.getLogger(__name__)

FUNCTION_LOG_LEVEL = "INFO"
# Lambda retries a failed asynchronous invocation twice.
ASYNC_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class HarnessOptions:
    """Timing of the harness's queues and retries (short, so scenarios run in seconds)."""

    batch_size: int = 10
    # The queues' visibility timeout: how long a crashed invocation's records stay hidden.
    visibility_timeout: int = 2
    retry_base_delay_seconds: int = 1
    retry_max_delay_seconds: int = 2
    retry_max_age_seconds: int = 120
    # None: enough receives to reach the maximum age (``RetrySchedule.receives_to_reach``).
    max_receive_count: int | None = None
    # The delay of each transcription job's check (``WACONNECT_TRANSCRIPT_CHECK_SECONDS``).
    transcript_check_seconds: int = 0


class LocalLambda:
    """The deployment over one started ``Cloud``; a context manager."""

    def __init__(
        self,
        cloud: Cloud,
        *,
        options: HarnessOptions | None = None,
        settings_changes: Mapping[str, Any] | None = None,
        http: httpx.Client | None = None,
        observe: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.cloud = cloud
        self._observe = observe
        self.options = options or HarnessOptions()
        self._settings_changes = dict(settings_changes or {})
        self._http = http
        self._own_http: httpx.Client | None = None
        # The functions' clients come from one session (crash hooks are registered on it), the
        # harness's own from another, so a hook never fires on the harness's calls.
        self._session = _session()
        self._own_session = _session()
        self._sqs: SQSClient | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sources: list[FifoEventSource] = []
        self._previous: Runtime | None = None
        self._log_level = logging.NOTSET
        self._runtime: Runtime | None = None
        self.resources: Resources | None = None
        self.settings: Settings | None = None
        self._recorder = Recorder()
        self._invoker = Invoker(self._recorder, killed=self._container_killed)
        self._lock = self._invoker.lock
        # Clients copy their session's hooks when made: this one must be there first.
        self._session.events.register("after-call", self._invoker.maybe_crash)
        # What the functions did, for users and tests: see ``Recorder``.
        self.invocations = self._recorder.invocations
        self.metrics = self._recorder.metrics
        self.log_lines = self._recorder.log_lines
        self.lost_events: list[str] = []
        # SQS and DynamoDB are moto's, on a server of their own (S3 is the cloud's).
        self._moto = MotoServer()
        self.moto_endpoint_url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LocalLambda:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalLambda:
        self.moto_endpoint_url = self._moto.start()
        options = self.options
        schedule = RetrySchedule(
            base_seconds=options.retry_base_delay_seconds,
            max_delay_seconds=options.retry_max_delay_seconds,
            max_age_seconds=options.retry_max_age_seconds,
        )
        self.resources = create_resources(
            self.sqs,
            self._client("dynamodb"),
            max_receive_count=options.max_receive_count or schedule.receives_to_reach(),
            visibility_timeout=options.visibility_timeout,
        )
        if self._http is None:
            self._own_http = self._http = self.cloud.http_client(30.0)
        self.settings = self._settings()
        self._previous = install(None)
        # Only the functions' own lines are theirs: the emulators' threads log elsewhere.
        LOG_SINK.dropping = True
        function_log = logging.getLogger(SERVICE)
        self._log_level = function_log.level
        self.redeploy()
        self.cloud.inbound_topic.subscribe(self._on_inbound_topic)
        self.cloud.streaming_topic.subscribe(self._on_streaming_topic)
        self.cloud.add_idle_check(self.idle)
        self.cloud.events.subscribe(self._on_event_bus)
        for queue, handler, name in (
            (self.resources.inbound, lambda_handlers.inbound, "inbound"),
            (self.resources.outbound, lambda_handlers.outbound, "outbound"),
            (self.resources.transcribed, lambda_handlers.transcribed, "transcribed"),
        ):
            source = FifoEventSource(
                sqs=self.sqs,
                queue=queue,
                batch_size=self.options.batch_size,
                invoke=functools.partial(self._invoker.invoke, name, handler, batch=True),
                busy=self._invoker.busy,
                stopping=self._stopping,
            )
            self._sources.append(source)
            thread = threading.Thread(target=source.run, daemon=True, name=f"esm-{name}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()
        self._sources.clear()
        for topic, subscriber in (
            (self.cloud.inbound_topic, self._on_inbound_topic),
            (self.cloud.streaming_topic, self._on_streaming_topic),
        ):
            with contextlib.suppress(ValueError):
                topic.unsubscribe(subscriber)
        with contextlib.suppress(ValueError):
            self.cloud.events.unsubscribe(self._on_event_bus)
        self._close_runtime()
        install(self._previous)
        # Powertools set the package logger's level for the functions: give it back.
        logging.getLogger(SERVICE).setLevel(self._log_level)
        if self._own_http is not None:
            self._own_http.close()
            self._own_http = None
        self._moto.stop()

    def redeploy(self, **settings_changes: Any) -> None:
        """New containers from now on, with ``settings_changes`` applied (a fix deployed)."""
        with self._lock:
            if settings_changes:
                self.settings = dataclasses.replace(self._require_settings(), **settings_changes)
            self._close_runtime()
            self._runtime = build_runtime(
                self._require_settings(),
                boto_session=self._session,
                clock=self.cloud.clock,
                http=self._http,
            )
            self._runtime.observe = self._observe
            install(self._runtime)
            self._runtime.logger.setLevel(FUNCTION_LOG_LEVEL)

    def _container_killed(self) -> None:
        self.redeploy()  # the next invocation gets a fresh container
        # The dead container's leases would hold its work until they expire: move the sandbox
        # clock past them, as replay does after a crash.
        lease = getattr(self.settings, "lease_seconds", 0)
        if lease:
            self.cloud.clock.advance(float(lease) + 1)

    def _close_runtime(self) -> None:
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.bridge.close()

    def _settings(self) -> Settings:
        resources = self._require_resources()
        base = Settings.for_sandbox(
            endpoint_url=self.cloud.endpoint_url,
            s3_endpoint_url=self.cloud.s3_endpoint_url,
            state_path=resources.state,
        )
        # The wiring and the harness's short delays win over the changes asked for.
        return dataclasses.replace(
            base,
            **{
                # Business numbers the emulated WhatsApp learns from Meta webhook bodies included.
                "eum_phone_numbers": NumberFile(self.cloud.numbers_path),
                **self._settings_changes,
                "media_prefix": f"lambda-{uuid.uuid4().hex}/",
                "dynamodb_endpoint_url": self.moto_endpoint_url,
                "sqs_endpoint_url": self.moto_endpoint_url,
                "inbound_queue_url": resources.inbound.url,
                "outbound_queue_url": resources.outbound.url,
                "transcribed_queue_url": resources.transcribed.url,
                # A job's check is not delayed here (SQS's delay is real time): it finds the job
                # running, is hidden and kept, and is handed in again at the step's end.
                "transcript_check_seconds": self.options.transcript_check_seconds,
                "retry_base_delay_seconds": self.options.retry_base_delay_seconds,
                "retry_max_delay_seconds": self.options.retry_max_delay_seconds,
                "retry_max_age_seconds": self.options.retry_max_age_seconds,
            },
        )

    # -- what users and tests call -----------------------------------------------------------

    @property
    def sqs(self) -> SQSClient:
        """The harness's own SQS client (on moto)."""
        if self._sqs is None:
            self._sqs = self._client("sqs")
        return self._sqs

    @property
    def boto_session(self) -> boto3.session.Session:
        """The session every function client is made from (register botocore events on it)."""
        return self._session

    def publish(self, document: Mapping[str, Any]) -> None:
        """Deliver a raw payload as its SNS topic would: WhatsApp traffic to ``ingest``,
        Connect streaming events to ``agent_ingest``. A Lambda SNS event goes as it is; a
        Transcribe job state change goes where the EventBridge rule puts it, the transcribed
        queue."""
        if "Records" in document:
            event = dict(document)
        elif "Type" in document and "Message" in document:
            event = build_lambda_event([document])
        else:
            event = build_lambda_event([sns_envelope(document)])
        try:
            kind = classify(document)  # a bare job state change is no SNS notification
        except (MalformedPayload, SnsSubscriptionMessage):
            kind = "whatsapp"  # the ingest function's own refusal is the observation
        if kind == "transcription":
            self._on_event_bus(dict(document))
            return
        self._invoke_async("ingest" if kind == "whatsapp" else "agent_ingest", event)

    def crash_at(self, operation: str, count: int = 1, *, nth: int = 1) -> None:
        """Kill ``count`` invocations right after the service handled ``operation``, from the
        ``nth`` call of it on (the calls before it go through)."""
        self._invoker.crash_at(operation, count, nth=nth)

    def idle(self) -> bool:
        """No invocation running and nothing in flight in the queues.

        A record a function handed back to try later is kept, not in flight (as the bridge's
        own store keeps a deferred document), and so are the later messages FIFO holds behind
        it; ``run_due`` hands them in again. A crashed invocation's records are in flight.
        """
        if self._invoker.busy_now:
            return False
        for source in self._sources:
            since = source.receives
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=source.queue.url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )["Attributes"]
            if not source.settled(
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                hidden=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
                since=since,
            ):
                return False
        return not self._invoker.busy_now

    def run_due(self) -> int:
        """Hand every kept record in again now, as if its retry time had come; how many."""
        return sum(source.run_due() for source in self._sources)

    def dead_letters(self, which: str = "inbound") -> list[MessageTypeDef]:
        """The records in a dead-letter queue (peeked: they stay there)."""
        queue: Queue = getattr(self._require_resources(), which)
        answer = self.sqs.receive_message(
            QueueUrl=queue.dead_letter_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    # -- SNS subscriptions -------------------------------------------------------------------

    def _on_inbound_topic(self, envelope: str) -> None:
        self._invoke_async("ingest", build_lambda_event([json.loads(envelope)]))

    def _on_streaming_topic(self, envelope: str) -> None:
        self._invoke_async("agent_ingest", build_lambda_event([json.loads(envelope)]))

    def _on_event_bus(self, event: dict[str, Any]) -> None:
        """The EventBridge rule: each Transcribe job state change onto the standard queue."""
        self.sqs.send_message(
            QueueUrl=self._require_resources().transcribed.url, MessageBody=json.dumps(event)
        )

    def _invoke_async(self, function: str, event: dict[str, Any]) -> None:
        handler: Handler = getattr(lambda_handlers, function)
        for _ in range(ASYNC_ATTEMPTS):
            records = len(event["Records"])
            if self._invoker.invoke(function, handler, event, records=records) is not None:
                return
        self.lost_events.append(function)
        logger.error("%s failed %d times: the SNS notification is lost", function, ASYNC_ATTEMPTS)

    def metric_total(self, name: str, *, function: str = "", kind: str = "") -> int:
        """The sum of an EMF metric over every invocation, optionally for one function/kind."""
        return self._recorder.metric_total(name, function=function, kind=kind)

    # -- helpers ---------------------------------------------------------------------------

    def _client(self, name: str) -> Any:
        return self._own_session.client(  # type: ignore[call-overload]
            name, endpoint_url=self.moto_endpoint_url, region_name=defaults.REGION
        )

    def _require_resources(self) -> Resources:
        if self.resources is None:
            raise RuntimeError("the harness is not started")
        return self.resources

    def _require_settings(self) -> Settings:
        if self.settings is None:
            raise RuntimeError("the harness is not started")
        return self.settings


def _session() -> boto3.session.Session:
    return boto3.session.Session(
        region_name=defaults.REGION,
        aws_access_key_id=defaults.ACCESS_KEY_ID,
        aws_secret_access_key=defaults.SECRET_ACCESS_KEY,
    )
