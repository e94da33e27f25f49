"""A customer's chat with Connect, as the bridge remembers it between messages."""

from __future__ import annotations

from dataclasses import dataclass, replace

from waconnect.domain.whatsapp import BusinessNumber, Customer

# Refresh the connection token this long before Connect says it expires.
REFRESH_MARGIN_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionKey:
    """Business number (Meta phone-number id) plus the customer's identity (BSUID, else wa_id)."""

    business_number: str
    customer: str

    @classmethod
    def of(cls, business: BusinessNumber, customer: Customer) -> SessionKey:
        return cls(business_number=business.meta_phone_number_id, customer=customer.identity)

    def __str__(self) -> str:
        return f"{self.business_number}#{self.customer}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatSession:
    """The open (or last) Connect chat of one customer on one business number.

    ``generation`` counts the chats this customer has had with us; it goes into ClientTokens so a
    reopened chat never collides with an ended one.
    """

    key: SessionKey
    business: BusinessNumber
    customer: Customer
    contact_id: str
    participant_id: str
    participant_token: str
    connection_token: str
    connection_expiry: float  # epoch seconds
    generation: int = 1
    started_at: float = 0.0
    ended: bool = False

    def needs_refresh(self, now: float) -> bool:
        return now >= self.connection_expiry - REFRESH_MARGIN_SECONDS

    def with_connection(self, token: str, expiry: float) -> ChatSession:
        return replace(self, connection_token=token, connection_expiry=expiry)

    def closed(self) -> ChatSession:
        return replace(self, ended=True)
