"""The Lambda functions of the serverless deployment (docs/lambda.md).

    End User Messaging SNS ─▶ ingest ─▶ inbound FIFO queue ─▶ inbound ─▶ Connect
    Connect streaming SNS ─▶ agent_ingest ─▶ outbound FIFO queue ─▶ outbound ─▶ WhatsApp

Each handler is thin: the container's runtime (the bridge from ``bootstrap``, an SQS client) is
built on its first call and reused. ``ingest`` and ``agent_ingest`` only parse and queue, so
the queues' message groups order each customer's (and each chat's) work; ``inbound`` and
``outbound`` consume the queues in FIFO batches with partial batch responses.
"""

from __future__ import annotations

from typing import Any

from waconnect.entrypoints.lambda_handlers import functions
from waconnect.entrypoints.lambda_handlers.runtime import current

Event = dict[str, Any]


def ingest(event: Event, context: Any = None) -> dict[str, Any]:
    """End User Messaging's SNS notifications → the inbound FIFO queue."""
    return functions.ingest(current(), event, context)


def inbound(event: Event, context: Any = None) -> dict[str, Any]:
    """Inbound FIFO records → the bridge → the customer's Connect chat."""
    return functions.inbound(current(), event, context)


def agent_ingest(event: Event, context: Any = None) -> dict[str, Any]:
    """Connect's streaming SNS notifications → the outbound FIFO queue."""
    return functions.agent_ingest(current(), event, context)


def outbound(event: Event, context: Any = None) -> dict[str, Any]:
    """Outbound FIFO records → the bridge → the customer on WhatsApp."""
    return functions.outbound(current(), event, context)


__all__ = ["agent_ingest", "inbound", "ingest", "outbound"]
