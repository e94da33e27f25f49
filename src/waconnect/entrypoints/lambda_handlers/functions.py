"""The bodies of the Lambda handlers, over a runtime (the container's, or the harness's)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from waconnect.entrypoints.lambda_handlers.consuming import RecordConsumer
from waconnect.entrypoints.lambda_handlers.job_changes import JobChangeConsumer
from waconnect.entrypoints.lambda_handlers.queueing import (
    QueueEntry,
    Refusal,
    batches,
    connect_entries,
    whatsapp_entries,
)
from waconnect.errors import DeliveryError, TransientError
from waconnect.services.outcome import Outcome
from waconnect.services.redact import mask

if TYPE_CHECKING:
    from waconnect.entrypoints.lambda_handlers.runtime import Runtime

NAMESPACE = "waconnect"
Split = Callable[[Mapping[str, Any]], tuple[list[QueueEntry], list[Refusal]]]
# The entries of an invocation not to queue (duplicates), each logged and settled by it.
Drop = Callable[["Runtime", Sequence[QueueEntry]], list[QueueEntry]]


def ingest(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    # One group per customer, whichever of their ids (phone number, BSUID) a message carries.
    key_of = runtime.bridge.inbound.customer_key

    def split(sns: Mapping[str, Any]) -> tuple[list[QueueEntry], list[Refusal]]:
        return whatsapp_entries(sns, key_of=key_of)

    return _enqueue(runtime, event, context, split=split, function="ingest", drop=_handled_before)


def agent_ingest(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return _enqueue(runtime, event, context, split=connect_entries, function="agent_ingest")


def inbound(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return _consume(runtime, event, context, "inbound")


def outbound(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return _consume(runtime, event, context, "outbound")


def transcribed(runtime: Runtime, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415 (see _consume)
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    _start(runtime, context, "transcribed")
    consumer = JobChangeConsumer(runtime)
    try:
        return dict(
            process_partial_response(
                event=dict(event),
                record_handler=consumer,
                processor=BatchProcessor(event_type=EventType.SQS),
                context=context,
            )
        )
    finally:
        emit_counts(consumer.counts, "transcribed")


def _enqueue(
    runtime: Runtime,
    event: Mapping[str, Any],
    context: Any,
    *,
    split: Split,
    function: str,
    drop: Drop | None = None,
) -> dict[str, Any]:
    """Queue every item of every SNS record, but those ``drop`` names as duplicates; raise when
    SQS refused some (SNS retries)."""
    queue_url = runtime.require(
        "inbound_queue_url" if function == "ingest" else "outbound_queue_url"
    )
    logger = runtime.logger
    _start(runtime, context, function)
    counts: Counter[tuple[str, str]] = Counter()
    entries: list[QueueEntry] = []
    for record in event.get("Records") or ():
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        if not isinstance(sns, Mapping):
            logger.warning("a record without an SNS notification was left out")
            counts[("rejected", "unknown")] += 1
            continue
        logger.append_keys(sns_message_id=str(sns.get("MessageId", "")))
        found, refused = split(sns)
        for refusal in refused:
            logger.warning("left out", extra={"reason": refusal.reason})
            runtime.settled(Outcome(kind="rejected", reason=refusal.reason))
            counts[("rejected", "unknown")] += 1
        entries.extend(found)
    logger.remove_keys(["sns_message_id"])
    if drop is not None:
        duplicates = drop(runtime, entries)
        for entry in duplicates:
            counts[("duplicate", entry.kind)] += 1
        entries = [entry for entry in entries if entry not in duplicates]
    failed = _send(runtime, queue_url, entries)
    for entry in entries:
        counts[("queued", entry.kind)] += 1
    emit_counts(counts, function)
    if failed:
        # Sending again is harmless: the deduplication ids make SQS keep one copy.
        raise TransientError(f"SQS refused {len(failed)} of {len(entries)} entries: {failed[0]}")
    return {"queued": len(entries)}


def _handled_before(runtime: Runtime, entries: Sequence[QueueEntry]) -> list[QueueEntry]:
    """The entries of messages the ledger records as handled: End User Messaging published them
    again after SQS's five minutes of deduplication. One read; when it fails, nothing is dropped
    (the consuming function's claim still drops a duplicate, at a higher price)."""
    wamids = [entry.wamid for entry in entries if entry.wamid]
    if not wamids:
        return []
    try:
        handled = runtime.bridge.inbound.handled_before(wamids)
    except DeliveryError as exc:
        runtime.logger.warning("could not look for duplicates; all queued: %s", exc)
        return []
    duplicates = [entry for entry in entries if entry.wamid in handled]
    for entry in duplicates:
        runtime.logger.info(
            "duplicate dropped before queueing", extra={"item_id": mask(entry.wamid)}
        )
        runtime.settled(Outcome(kind="duplicate", reason="already handled", wamid=entry.wamid))
    return duplicates


def _send(runtime: Runtime, queue_url: str, entries: Sequence[QueueEntry]) -> list[str]:
    failed: list[str] = []
    for chunk in batches(entries):
        answer = runtime.sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "MessageBody": entry.body,
                    "MessageGroupId": entry.group_id,
                    "MessageDeduplicationId": entry.deduplication_id,
                }
                for index, entry in enumerate(chunk)
            ],
        )
        for item in answer.get("Failed", []):
            failed.append(f"{item.get('Code', '')}: {item.get('Message', '')}")
    return failed


def _consume(
    runtime: Runtime, event: Mapping[str, Any], context: Any, function: str
) -> dict[str, Any]:
    # Powertools' batch utilities load every event class it knows: only the queue consumers
    # pay for them at cold start, not the ingest functions.
    from aws_lambda_powertools.utilities.batch import (  # noqa: PLC0415
        SqsFifoPartialProcessor,
        process_partial_response,
    )

    _start(runtime, context, function)
    consumer = RecordConsumer(runtime)
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    try:
        response: dict[str, Any] = dict(
            process_partial_response(
                event=dict(event), record_handler=consumer, processor=processor, context=context
            )
        )
    finally:
        emit_counts(consumer.counts, function)
    return response


def _start(runtime: Runtime, context: Any, function: str) -> None:
    request_id = getattr(context, "aws_request_id", "")
    runtime.logger.append_keys(function=function, request_id=request_id or None)


def emit_counts(counts: Counter[tuple[str, str]], function: str) -> None:
    """One EMF metric per (outcome, kind) pair seen in this invocation."""
    for (name, kind), value in sorted(counts.items()):
        with single_metric(
            name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE
        ) as metric:
            metric.add_dimension(name="function", value=function)
            metric.add_dimension(name="kind", value=kind)
