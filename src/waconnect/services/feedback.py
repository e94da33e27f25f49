"""What the customer sees of the bridge's work: read marks, a 📎 for files, ❌ when it failed,
and a word when their message waits for a free chat.

Feedback is best effort: a failure to react never turns a delivered message into a failed one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from waconnect.domain.failures import Failure
from waconnect.domain.outgoing import Outgoing, OutgoingReaction, OutgoingText, ReadReceipt
from waconnect.domain.whatsapp import InboundMessage
from waconnect.errors import DeliveryError
from waconnect.ports import WhatsApp
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)

QUEUED_TEXT = (
    "All our agents are busy right now. Your message is saved, and an agent will read it as "
    "soon as one is free."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackSettings:
    mark_read: bool = True
    file_reaction: str = "📎"  # empty: none
    failure_reaction: str = "❌"  # empty: none
    failure_text: bool = True
    queued_text: str = QUEUED_TEXT  # empty: nothing said while a message waits for a chat


class CustomerFeedback:
    def __init__(self, whatsapp: WhatsApp, settings: FeedbackSettings) -> None:
        self._whatsapp = whatsapp
        self._settings = settings

    def delivered(self, message: InboundMessage, *, file_reached: bool) -> None:
        """The message reached Connect: mark it read, and react when a file reached the agent."""
        if self._settings.mark_read:
            self._send(message, ReadReceipt(message_id=message.wamid))
        if file_reached and self._settings.file_reaction:
            self._react(message, self._settings.file_reaction)

    def failed(self, message: InboundMessage, failure: Failure) -> None:
        """Something of the message did not reach the agent: react, and say so in words."""
        if self._settings.failure_reaction:
            self._react(message, self._settings.failure_reaction)
        text = failure.customer_text
        if self._settings.failure_text and text:
            self._send(
                message, OutgoingText(to=message.customer, text=text, reply_to=message.wamid)
            )

    @property
    def tells_queued(self) -> bool:
        return bool(self._settings.queued_text)

    def queued(self, message: InboundMessage) -> None:
        """The message waits for a free chat: say so (the caller makes it once per wait)."""
        if self._settings.queued_text:
            self._send(
                message,
                OutgoingText(
                    to=message.customer, text=self._settings.queued_text, reply_to=message.wamid
                ),
            )

    def _react(self, message: InboundMessage, emoji: str) -> None:
        reaction = OutgoingReaction(to=message.customer, message_id=message.wamid, emoji=emoji)
        self._send(message, reaction)

    def _send(self, message: InboundMessage, outgoing: Outgoing) -> None:
        try:
            self._whatsapp.send(message.business, outgoing)
        except DeliveryError as exc:
            logger.warning(
                "feedback %s to customer %s not sent: %s",
                type(outgoing).__name__,
                mask(message.customer.identity),
                exc,
            )
