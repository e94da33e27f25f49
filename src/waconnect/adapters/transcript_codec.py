"""A ``PendingTranscript`` as one JSON text, the same in every store that keeps it."""

from __future__ import annotations

import json
from typing import Any

from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.errors import PermanentError
from waconnect.ports import PendingTranscript


def pending_to_text(pending: PendingTranscript) -> str:
    business, customer = pending.business, pending.customer
    return json.dumps(
        {
            "job": pending.job,
            "wamid": pending.wamid,
            "business": {
                "meta_phone_number_id": business.meta_phone_number_id,
                "display_phone_number": business.display_phone_number,
                "waba_id": business.waba_id,
                "aws_phone_number_id": business.aws_phone_number_id,
            },
            # The customer's name is not needed to answer them: it is not kept.
            "customer": {"wa_id": customer.wa_id, "user_id": customer.user_id},
            "contact_id": pending.contact_id,
            "generation": pending.generation,
            "started_at": pending.started_at,
        },
        separators=(",", ":"),
    )


def pending_from_text(text: str) -> PendingTranscript:
    """The record written by ``pending_to_text``; ``PermanentError`` for anything else."""
    try:
        data: dict[str, Any] = json.loads(text)
        business = data["business"]
        customer = data["customer"]
        return PendingTranscript(
            job=str(data["job"]),
            wamid=str(data["wamid"]),
            business=BusinessNumber(
                meta_phone_number_id=str(business["meta_phone_number_id"]),
                display_phone_number=str(business.get("display_phone_number", "")),
                waba_id=str(business.get("waba_id", "")),
                aws_phone_number_id=str(business.get("aws_phone_number_id", "")),
            ),
            customer=Customer(wa_id=str(customer["wa_id"]), user_id=str(customer["user_id"])),
            contact_id=str(data["contact_id"]),
            generation=int(data["generation"]),
            started_at=float(data["started_at"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(
            f"unreadable transcript job record ({type(exc).__name__})",
            operation="find transcript job",
        ) from exc
