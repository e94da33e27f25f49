"""What a Lambda container builds once, on its first invocation, and keeps warm.

The bridge comes from the same composition root as every other shape (``bootstrap``); this adds
the SQS client the functions queue and re-queue with, the retry schedule and the Powertools
logger. Nothing is built at import time: the first call of a handler builds, later calls reuse.
The local harness installs a runtime of its own (``install``) wired to moto and the emulators.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from waconnect.entrypoints.lambda_handlers.conversions import CountingConverter
from waconnect.entrypoints.lambda_handlers.schedule import RetrySchedule
from waconnect.errors import ConfigurationError
from waconnect.log_setup import current_log_ids
from waconnect.services.redact import redact_text
from waconnect.settings import PREFIX, Settings

if TYPE_CHECKING:
    import boto3
    import httpx
    from mypy_boto3_sqs import SQSClient

    from waconnect.entrypoints.bridge import Bridge
    from waconnect.ports import Clock, Converter
    from waconnect.services.outcome import Outcome

SERVICE = "waconnect"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetterTarget:
    """Where a queue's dead letters go, from its RedrivePolicy."""

    queue_url: str
    max_receive_count: int


@dataclass(kw_only=True)
class Runtime:
    settings: Settings
    bridge: Bridge
    sqs: SQSClient
    logger: Logger
    schedule: RetrySchedule
    # Sees every outcome a record or notification ends with (the local harness journals them).
    observe: Callable[[Outcome], None] | None = None
    # Counts the bridge's file conversions, for the ``converted`` metric.
    conversions: CountingConverter | None = None
    _queue_urls: dict[str, str] = field(default_factory=dict)
    _dead_letters: dict[str, DeadLetterTarget | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue_url(self, queue_arn: str) -> str:
        """The URL of the queue with this ARN (asked once per container)."""
        with self._lock:
            known = self._queue_urls.get(queue_arn)
        if known is not None:
            return known
        _, _, _, _, account, name = queue_arn.split(":", 5)
        url = self.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        with self._lock:
            self._queue_urls[queue_arn] = url
        return url

    def dead_letter_target(self, queue_url: str) -> DeadLetterTarget | None:
        """The dead-letter queue of ``queue_url`` (asked once per container), None if none."""
        with self._lock:
            if queue_url in self._dead_letters:
                return self._dead_letters[queue_url]
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
        ).get("Attributes", {})
        target: DeadLetterTarget | None = None
        if "RedrivePolicy" in attributes:
            policy = json.loads(attributes["RedrivePolicy"])
            target = DeadLetterTarget(
                queue_url=self.queue_url(str(policy["deadLetterTargetArn"])),
                max_receive_count=int(policy["maxReceiveCount"]),
            )
        with self._lock:
            self._dead_letters[queue_url] = target
        return target

    def settled(self, outcome: Outcome) -> None:
        if self.observe is not None:
            self.observe(outcome)

    def require(self, name: str) -> str:
        """A setting this function cannot run without (a queue URL), or ``ConfigurationError``."""
        value = str(getattr(self.settings, name))
        if not value:
            raise ConfigurationError(f"{PREFIX}{name.upper()}: required by this function")
        return value


def build_runtime(
    settings: Settings,
    *,
    boto_session: boto3.session.Session | None = None,
    clock: Clock | None = None,
    http: httpx.Client | None = None,
) -> Runtime:
    """Wire a runtime: the bridge (deferring what SQS will redeliver) and an SQS client."""
    # boto3 and the adapters are imported on the first invocation, not at import time.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    from waconnect.adapters.aws.sqs_follow_ups import SqsTranscriptFollowUps  # noqa: PLC0415
    from waconnect.bootstrap import build_bridge  # noqa: PLC0415
    from waconnect.entrypoints.retry_policy import RetryPolicy  # noqa: PLC0415

    session = boto_session or boto3.session.Session(region_name=settings.region)
    sqs: SQSClient = session.client(
        "sqs",
        region_name=settings.region,
        endpoint_url=settings.sqs_endpoint_url or None,
        config=Config(retries={"mode": "standard"}),
    )
    logger = function_logger()
    conversions: list[CountingConverter] = []

    def counting(converter: Converter) -> Converter:
        conversions.append(CountingConverter(converter))
        return conversions[-1]

    bridge = build_bridge(
        settings,
        clock=clock,
        boto_session=session,
        http=http,
        # A function pays for the time it waits: one quick retry in-process (on top of
        # botocore's), then the message waits in its queue instead.
        retry=RetryPolicy(attempts=2, delay=0.2),
        wrap_converter=counting,
        # Each started job's check comes back on the queue of ``transcribed``, delayed.
        follow_ups=SqsTranscriptFollowUps(
            sqs, settings.transcribed_queue_url, delay_seconds=settings.transcript_check_seconds
        )
        if settings.transcribed_queue_url
        else None,
    )
    return Runtime(
        settings=settings,
        bridge=bridge,
        conversions=conversions[0] if conversions else None,
        sqs=sqs,
        logger=logger,
        schedule=RetrySchedule(
            base_seconds=settings.retry_base_delay_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            max_age_seconds=settings.retry_max_age_seconds,
        ),
    )


class LogSink(io.TextIOBase):
    """Where the functions' JSON log lines go: whatever ``sys.stderr`` is.

    Lambda sends both streams to CloudWatch Logs; stderr keeps stdout for what a process prints
    as its output (replay's effect lines, the EMF metrics), whichever code made the logger.

    The local harness runs functions and emulators in one process: it captures the lines of the
    invoking thread (``capture``) and has every other line dropped (``dropping``), from then on.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self.dropping = False

    def write(self, text: str) -> int:
        target = getattr(self._local, "target", None)
        if target is None:
            if self.dropping:
                return len(text)
            target = sys.stderr
        return int(target.write(text))

    @contextlib.contextmanager
    def capture(self, target: IO[str] | io.TextIOBase) -> Iterator[None]:
        self._local.target = target
        try:
            yield
        finally:
            self._local.target = None


class FunctionLogFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, plus the correlation ids the core binds (``log_ids``: hashed
    wamid, contact id, business number), passed through the same redaction as every other
    shape's lines."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        for key, value in current_log_ids().items():
            log.setdefault(key, value)
        return redact_text(super().serialize(log))


LOG_SINK = LogSink()
_logger: Logger | None = None


def function_logger() -> Logger:
    """The functions' Powertools logger, made once per process.

    Named after the package, so every ``waconnect.*`` module logger writes through it as JSON
    with the same correlation keys (ids only: the core never logs message content).
    """
    global _logger  # noqa: PLW0603 (Powertools configures one logger per service and process)
    with _current_lock:
        if _logger is None:
            _logger = Logger(
                service=SERVICE,
                stream=cast(IO[str], LOG_SINK),
                logger_formatter=FunctionLogFormatter(),
            )
        return _logger


_current: Runtime | None = None
_current_lock = threading.RLock()


def current(environ: Mapping[str, str] | None = None) -> Runtime:
    """This container's runtime, built from the environment on first use."""
    global _current  # noqa: PLW0603 (one runtime per container, by design)
    with _current_lock:
        if _current is None:
            settings = Settings.from_env(os.environ if environ is None else environ)
            _current = build_runtime(settings)
        return _current


def install(runtime: Runtime | None) -> Runtime | None:
    """Use ``runtime`` from now on (None: build from the environment again); returns the old."""
    global _current
    with _current_lock:
        previous, _current = _current, runtime
    return previous
