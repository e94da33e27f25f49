"""What WhatsApp does with a message after accepting it: the customer service window, statuses.

Meta's rules, as the emulator applies them:
- a customer's message opens a 24-hour customer service window with that business number; a
  free-form message sent outside it is accepted (it gets a wamid) and then fails with a ``failed``
  status carrying error 131047; template messages may be sent at any time;
- read receipts and typing indicators are not messages: Meta asks only that a message be marked
  read within 30 days, so they are not held to the window and have no statuses of their own;
- a delivered message reports ``sent`` then ``delivered`` (``read`` once the customer reads it),
  but a reaction reports ``sent`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WINDOW_SECONDS = 24 * 60 * 60
WINDOW_REASON = "outside the 24-hour window (131047)"

NOT_MESSAGES = frozenset({"read", "typing"})
_ANY_TIME = frozenset({"template"})
_SENT_ONLY = frozenset({"reaction"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """Who a status names: the phone number (``wa_id``, may be empty) and the BSUID if any."""

    wa_id: str
    user_id: str = ""

    def status_fields(self) -> dict[str, str]:
        fields = {"recipient_id": self.wa_id}
        if self.user_id:
            fields["recipient_user_id"] = self.user_id
        return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbound:
    """One message the business sent, and the last status WhatsApp reported for it."""

    wamid: str
    aws_id: str  # the business number it was sent from
    recipient: Recipient
    kind: str
    status: str

    @property
    def can_be_read(self) -> bool:
        return self.status in {"sent", "delivered"} and self.kind not in _SENT_ONLY


def outside_window(kind: str, last_inbound: float | None, now: float) -> bool:
    """True if a message of ``kind`` must fail because the service window is closed.

    A customer who never wrote through the emulator (a replayed raw payload, a contract test
    addressing a number directly) has a window the emulator cannot know, so it is taken as open.
    """
    if kind in _ANY_TIME or kind in NOT_MESSAGES or last_inbound is None:
        return False
    return now - last_inbound > WINDOW_SECONDS


def success_statuses(kind: str) -> tuple[str, ...]:
    """The statuses a delivered message of ``kind`` reports, in order."""
    return ("sent",) if kind in _SENT_ONLY else ("sent", "delivered")


def reengagement_error() -> dict[str, Any]:
    """The error object of a ``failed`` status for a message sent outside the window."""
    return {
        "code": 131047,
        "title": "Re-engagement message",
        "message": "Re-engagement message",
        "error_data": {
            "details": "Message failed to send because more than 24 hours have passed since "
            "the customer last replied to this number."
        },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    }


def status_document(
    outbound: Outbound, status: str, *, timestamp: float, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """One element of a webhook's ``statuses`` for ``outbound``."""
    document: dict[str, Any] = {
        "id": outbound.wamid,
        "status": status,
        "timestamp": str(int(timestamp)),
        **outbound.recipient.status_fields(),
    }
    if errors:
        document["errors"] = errors
    return document
