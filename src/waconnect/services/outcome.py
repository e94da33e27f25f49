"""What became of one inbound message or one Connect event: the value every use case returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from waconnect.domain.failures import Failure

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
