"""What the emulated WhatsApp holds: business numbers, media, sends and each conversation.

One lock guards it all; the operations (``eum_api``, ``eum_media``) and the customer's side
(``customer_phone``) change it through these methods, readers go through ``state_api``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from waconnect.domain.whatsapp import BusinessNumber, Customer
from waconnect.sandbox import defaults
from waconnect.sandbox.blobs import Blob
from waconnect.sandbox.delivery import Outbound, Recipient
from waconnect.sandbox.meta_send import MediaFacts
from waconnect.sandbox.protocol import ApiError


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneNumber:
    aws_id: str  # phone-number-id-<hex>
    arn: str
    meta_id: str
    display: str
    waba_id: str
    waba_arn: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Media:
    media_id: str
    blob: Blob
    mime_type: str
    owner: str  # AWS phone number id for uploads; "" for media a customer sent
    codec: str = ""
    # For media a customer sent: the AWS phone number id of the business number that received it,
    # the only one WhatsApp lets download it.
    recipient: str = ""

    def readable_by(self, aws_id: str) -> bool:
        return self.owner == aws_id if self.owner else self.recipient == aws_id


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchanged:
    """One message between a customer and a business number, as the customer's phone shows it."""

    from_customer: bool
    customer: str  # identity
    wamid: str
    body: Mapping[str, Any]  # the Meta message (the customer's) or send body (the business's)
    at: float


def minted_number(meta_id: str) -> PhoneNumber:
    """The number End User Messaging would know for a Meta phone number id (same id, same one)."""
    suffix = hashlib.sha256(meta_id.encode()).hexdigest()[:32]
    return PhoneNumber(
        aws_id=f"phone-number-id-{suffix}",
        arn=f"arn:aws:social-messaging:{defaults.REGION}:{defaults.ACCOUNT_ID}:"
        f"phone-number-id/{suffix}",
        meta_id=meta_id,
        display="1555" + meta_id[-7:].rjust(7, "0"),
        waba_id=defaults.WABA_ID,
        waba_arn=defaults.WABA_ARN,
    )


class WhatsAppRecords:
    """The emulated WhatsApp's state, behind one re-entrant lock (``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.numbers: dict[str, PhoneNumber] = {}
        # Told the {Meta id: End User Messaging id} map each time a number is added.
        self.on_numbers: Callable[[Mapping[str, str]], None] | None = None
        self.media: dict[str, Media] = {}
        # Every body End User Messaging accepted, in order, and the wamid each got.
        self.sent: list[dict[str, Any]] = []
        self.sent_wamids: list[str] = []
        self.sent_from: list[str] = []  # the Meta phone number id each send came from
        self.wamid_customers: dict[str, str] = {}
        self.identities: dict[str, str] = {}
        # (business AWS phone number id, customer identity) -> emulator time of their last message
        self.last_inbound: dict[tuple[str, str], float] = {}
        self.recipients: dict[str, Recipient] = {}
        self.outbound: dict[str, Outbound] = {}
        # (customer identity, body) of each message WhatsApp delivered, receipts left out
        self.received: list[tuple[str, dict[str, Any]]] = []
        # Both directions in the order they happened, for the customer's phone.
        self.timeline: list[Exchanged] = []

    def add_number(self, number: PhoneNumber) -> None:
        with self.lock:
            self.numbers[number.aws_id] = number
            if self.on_numbers is not None:
                self.on_numbers({n.meta_id: n.aws_id for n in self.numbers.values()})

    def number(self, origination: str) -> PhoneNumber:
        """The number an ``originationPhoneNumberId`` names (its id or ARN), else the API error."""
        suffix = origination.rsplit("/", 1)[1] if origination.startswith("arn:") else ""
        aws_id = f"phone-number-id-{suffix}" if suffix else origination
        with self.lock:
            number = self.numbers.get(aws_id)
        if number is None or (suffix and number.arn != origination):
            raise ApiError(
                "ResourceNotFoundException", f"phone number {origination} not found", 404
            )
        return number

    def number_for_meta_id(self, meta_id: str) -> PhoneNumber:
        """The business number with this Meta phone number id, added on first use."""
        with self.lock:
            for number in self.numbers.values():
                if number.meta_id == meta_id:
                    return number
            number = minted_number(meta_id)
            self.add_number(number)
            return number

    def know_business(self, business: BusinessNumber) -> PhoneNumber:
        """The number a Meta webhook body arrived on, added if WhatsApp did not know it yet
        (with the display number and account the body names)."""
        meta_id = business.meta_phone_number_id
        with self.lock:
            for number in self.numbers.values():
                if number.meta_id == meta_id:
                    return number
            minted = minted_number(meta_id)
            number = replace(
                minted,
                display=business.display_phone_number or minted.display,
                waba_id=business.waba_id or minted.waba_id,
            )
            self.add_number(number)
            return number

    def add_media(self, media: Media) -> None:
        with self.lock:
            self.media[media.media_id] = media

    def media_facts(self, media_id: str) -> MediaFacts | None:
        with self.lock:
            media = self.media.get(media_id)
        if media is None:
            return None
        return MediaFacts(
            mime_type=media.mime_type, size=media.blob.size, owner=media.owner, codec=media.codec
        )

    def media_received_by(self, media_id: str, aws_id: str) -> Media | None:
        """A customer's media now sent to the number ``aws_id``: only that number may fetch it."""
        with self.lock:
            media = self.media.get(media_id)
            if media is not None and not media.owner and media.recipient != aws_id:
                media = replace(media, recipient=aws_id)
                self.media[media.media_id] = media
            return media

    def record_send(self, wamid: str, body: dict[str, Any], to: str, *, sender: str) -> None:
        with self.lock:
            self.sent.append(body)
            self.sent_wamids.append(wamid)
            self.sent_from.append(sender)
            self.wamid_customers[wamid] = to

    def note_wamid(self, wamid: str, customer: Customer, *, known: bool = False) -> None:
        """``wamid`` is a message of ``customer``; with ``known``, unless already noted, and
        their numbers then name them only where nothing else does yet."""
        identity = customer.identity
        with self.lock:
            if not known:
                self.wamid_customers[wamid] = identity
                return
            self.wamid_customers.setdefault(wamid, identity)
            for key in (customer.wa_id, customer.user_id):
                if key:
                    self.identities.setdefault(key, identity)

    def note_inbound(self, *, aws_id: str, customer: Customer, at: float) -> None:
        """``customer`` wrote to the business number ``aws_id`` at ``at``: the window opens."""
        identity = customer.identity
        with self.lock:
            key = (aws_id, identity)
            self.last_inbound[key] = max(at, self.last_inbound.get(key, at))
            self.recipients[identity] = Recipient(wa_id=customer.wa_id, user_id=customer.user_id)
            if customer.wa_id:
                self.identities[customer.wa_id] = identity
            if customer.user_id:
                self.identities[customer.user_id] = identity

    def note_customer_message(
        self, *, customer: str, wamid: str, message: Mapping[str, Any], at: float
    ) -> None:
        """The customer sent ``message``: it joins their side of the conversation."""
        with self.lock:
            self.timeline.append(
                Exchanged(from_customer=True, customer=customer, wamid=wamid, body=message, at=at)
            )

    def status_of(self, wamid: str) -> str | None:
        """The last status of a message the business sent (None for receipts and unknown ids)."""
        with self.lock:
            outbound = self.outbound.get(wamid)
        return outbound.status if outbound is not None else None
