"""What the bridge remembers of the messages it carried, so a later reply or reaction can quote
them and a typing indicator can show on the customer's last message.

Remembering is best effort: the message has arrived by then, and failing it would only make a
retry send it twice. What is lost is a later quote or typing indicator.
"""

from __future__ import annotations

import logging

from waconnect.domain.session import SessionKey
from waconnect.errors import DeliveryError
from waconnect.ports import Author, Clock, LoggedMessage, MessageLog
from waconnect.services.redact import mask

logger = logging.getLogger(__name__)


class MessageMemory:
    def __init__(self, log: MessageLog, clock: Clock, *, snippets: bool = True) -> None:
        self._log = log
        self._clock = clock
        self._snippets = snippets

    def remember(self, *, wamid: str, key: SessionKey, author: Author, text: str) -> None:
        """Keep ``wamid``, written by ``author`` in the chats of ``key``, with ``text`` as its
        snippet when snippets are kept."""
        entry = LoggedMessage.of(
            wamid=wamid,
            key=key,
            author=author,
            text=text if self._snippets else "",
            at=self._clock.now(),
        )
        try:
            self._log.remember(entry)
        except DeliveryError as exc:
            logger.warning("message %s not remembered: %s", mask(wamid), exc)
