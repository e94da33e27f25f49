"""What became of one inbound message or one Connect event: the value every use case returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

if TYPE_CHECKING:
    from waconnect.domain.connect import ConnectEvent
    from waconnect.domain.failures import Failure
    from waconnect.domain.session import ChatSession
    from waconnect.domain.whatsapp import InboundMessage

OutcomeKind = Literal[
    "delivered", "duplicate", "skipped", "ignored", "rejected", "failed", "deferred"
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One result.

    ``skipped``: a routine drop never worth a line (our own echo, an event not for the
    customer). ``ignored``: a notable drop (unknown contact id, a REJECTED attachment).
    ``rejected``: malformed input. ``failed``: a delivery failure; ``failure`` says who was told
    what. ``deferred``: not done yet and nothing lost: another worker holds the work, or a chat
    cannot be opened right now; the transport hands the same input in again after
    ``retry_after`` seconds (SQS: the record's visibility timeout; sandbox and server: a stored
    retry).
    """

    kind: OutcomeKind
    reason: str = ""
    customer: str = ""
    contact_id: str = ""
    wamid: str = ""
    failure: Failure | None = None
    retry_after: float = 0.0

    @property
    def ok(self) -> bool:
        """True unless the input was malformed or something could not be delivered."""
        return self.kind not in ("rejected", "failed")

    @property
    def settled(self) -> bool:
        """False while the input still has to be handed in again (``deferred``)."""
        return self.kind != "deferred"

    @property
    def redeliverable(self) -> bool:
        """Nothing was kept and nobody told (``deferred``, or ``failed`` with no ``failure``):
        a transport that can hand the input in again should."""
        return self.kind == "deferred" or (self.kind == "failed" and self.failure is None)


class Details(TypedDict, total=False):
    """What an outcome says beyond its kind and whose it is."""

    reason: str
    failure: Failure | None
    retry_after: float


def message_outcome(
    message: InboundMessage, kind: OutcomeKind, *, contact_id: str = "", **details: Unpack[Details]
) -> Outcome:
    """The outcome of a customer's message (in the chat ``contact_id`` when it reached one)."""
    customer = message.customer.identity
    return Outcome(
        kind=kind, customer=customer, wamid=message.wamid, contact_id=contact_id, **details
    )


def event_outcome(
    event: ConnectEvent,
    kind: OutcomeKind,
    *,
    session: ChatSession | None = None,
    **details: Unpack[Details],
) -> Outcome:
    """The outcome of a Connect event, in the chat of ``session`` when it has one."""
    if session is None:
        return Outcome(kind=kind, contact_id=event.contact_id, **details)
    return Outcome(
        kind=kind, customer=session.customer.identity, contact_id=session.contact_id, **details
    )
