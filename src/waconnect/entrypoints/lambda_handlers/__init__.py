"""The Lambda functions of the serverless deployment (docs/lambda.md).

    End User Messaging SNS ─▶ ingest ─▶ inbound FIFO queue ─▶ inbound ─▶ Connect
    Connect streaming SNS ─▶ agent_ingest ─▶ outbound FIFO queue ─▶ outbound ─▶ WhatsApp
    Transcribe job state change ─EventBridge─▶ standard queue ─▶ transcribed ─▶ Connect, WhatsApp

Each handler is thin: the container's runtime (the bridge from ``bootstrap``, an SQS client) is
built on its first call and reused. ``ingest`` and ``agent_ingest`` only parse and queue, so
the queues' message groups order each customer's (and each chat's) work; ``inbound`` and
``outbound`` consume the queues in FIFO batches with partial batch responses; ``transcribed``
(with ``WACONNECT_TRANSCRIPTION=transcribe``) sends each finished voice-note transcript.

No module of this package may be named after a handler: importing it would replace the
handler on the package. Importing this package costs nothing: Powertools, boto3 and the bridge
are imported by the first call, so its modules (the queue format) serve tools that have no
Powertools installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

    from waconnect.entrypoints.lambda_handlers.runtime import Runtime

Event = dict[str, Any]


def _functions() -> tuple[ModuleType, Runtime]:
    from waconnect.entrypoints.lambda_handlers import functions  # noqa: PLC0415
    from waconnect.entrypoints.lambda_handlers.runtime import current  # noqa: PLC0415

    return functions, current()


def ingest(event: Event, context: Any = None) -> dict[str, Any]:
    """End User Messaging's SNS notifications → the inbound FIFO queue."""
    functions, runtime = _functions()
    return dict(functions.ingest(runtime, event, context))


def inbound(event: Event, context: Any = None) -> dict[str, Any]:
    """Inbound FIFO records → the bridge → the customer's Connect chat."""
    functions, runtime = _functions()
    return dict(functions.inbound(runtime, event, context))


def agent_ingest(event: Event, context: Any = None) -> dict[str, Any]:
    """Connect's streaming SNS notifications → the outbound FIFO queue."""
    functions, runtime = _functions()
    return dict(functions.agent_ingest(runtime, event, context))


def outbound(event: Event, context: Any = None) -> dict[str, Any]:
    """Outbound FIFO records → the bridge → the customer on WhatsApp."""
    functions, runtime = _functions()
    return dict(functions.outbound(runtime, event, context))


def transcribed(event: Event, context: Any = None) -> dict[str, Any]:
    """Transcribe job state changes (EventBridge events on a standard queue) → the transcript
    to the agent's chat and the echo to the customer."""
    functions, runtime = _functions()
    return dict(functions.transcribed(runtime, event, context))


__all__ = ["agent_ingest", "inbound", "ingest", "outbound", "transcribed"]
