"""ChatSession to and from a flat dict of strings and numbers, for the stores that persist it.

Flat on purpose: SQLite columns and DynamoDB attributes are the same names, and an operator
reading a row sees every field without decoding nested JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from waconnect.domain.session import ChatSession, SessionKey
from waconnect.domain.whatsapp import BusinessNumber, Customer

# Column order is the SQLite schema's; each is (name, kind).
FIELDS: tuple[tuple[str, type], ...] = (
    ("session_key", str),
    ("business_number", str),
    ("customer_identity", str),
    ("meta_phone_number_id", str),
    ("display_phone_number", str),
    ("waba_id", str),
    ("aws_phone_number_id", str),
    ("customer_wa_id", str),
    ("customer_user_id", str),
    ("customer_name", str),
    ("contact_id", str),
    ("participant_id", str),
    ("participant_token", str),
    ("connection_token", str),
    ("connection_expiry", float),
    ("generation", int),
    ("started_at", float),
    ("ended", bool),
)


def session_to_record(session: ChatSession) -> dict[str, str | float | int | bool]:
    business, customer = session.business, session.customer
    return {
        "session_key": str(session.key),
        "business_number": session.key.business_number,
        "customer_identity": session.key.customer,
        "meta_phone_number_id": business.meta_phone_number_id,
        "display_phone_number": business.display_phone_number,
        "waba_id": business.waba_id,
        "aws_phone_number_id": business.aws_phone_number_id,
        "customer_wa_id": customer.wa_id,
        "customer_user_id": customer.user_id,
        "customer_name": customer.name,
        "contact_id": session.contact_id,
        "participant_id": session.participant_id,
        "participant_token": session.participant_token,
        "connection_token": session.connection_token,
        "connection_expiry": session.connection_expiry,
        "generation": session.generation,
        "started_at": session.started_at,
        "ended": session.ended,
    }


def session_from_record(record: Mapping[str, Any]) -> ChatSession:
    """Rebuild a session; numbers may arrive as ``Decimal`` (DynamoDB) or ``int`` (SQLite)."""
    return ChatSession(
        key=SessionKey(
            business_number=str(record["business_number"]),
            customer=str(record["customer_identity"]),
        ),
        business=BusinessNumber(
            meta_phone_number_id=str(record["meta_phone_number_id"]),
            display_phone_number=str(record["display_phone_number"]),
            waba_id=str(record["waba_id"]),
            aws_phone_number_id=str(record["aws_phone_number_id"]),
        ),
        customer=Customer(
            wa_id=str(record["customer_wa_id"]),
            user_id=str(record["customer_user_id"]),
            name=str(record["customer_name"]),
        ),
        contact_id=str(record["contact_id"]),
        participant_id=str(record["participant_id"]),
        participant_token=str(record["participant_token"]),
        connection_token=str(record["connection_token"]),
        connection_expiry=float(record["connection_expiry"]),
        generation=int(record["generation"]),
        started_at=float(record["started_at"]),
        ended=bool(record["ended"]),
    )
