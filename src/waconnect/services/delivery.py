"""The delivery engine both directions share: parts, each sent once, recorded as done.

A use case plans its input as a list of parts and hands them here:

- toward the agent, ``to_chat`` sends each :class:`Part` (a text or a file) to the Connect chat
  with a ClientToken from the one derivation (``client_tokens.client_token``: the source id, the
  part's purpose and index, the chat generation) and records it ``done:<token>``, so a retry, a
  takeover after a crash or a re-run in a new chat sends only what is missing;
- toward the customer, ``to_customer`` sends one WhatsApp message at most once per step: it is
  marked *maybe sent* before it leaves, and only an answer that proves it did not go clears that.

A new kind of part (a transcript, a converted file, a numbered voice-note WAV) is a new
``purpose`` word on a ``Part``; nothing here changes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing
from waconnect.domain.session import ChatSession
from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import BusinessNumber
from waconnect.errors import Unconfirmed
from waconnect.ports import ConnectChat, Ledger, WhatsApp
from waconnect.services.client_tokens import client_token

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One request to the chat: a text (``media`` None) or a file named ``name``.

    ``purpose`` says what it is ("text", "caption", "file", "notice", "transcript", ...) and,
    with ``index``, tells it from the message's other parts in its ClientToken.
    """

    purpose: str
    index: int = 0
    text: str = ""
    media: StoredMedia | None = None
    name: str = ""
    # A voice note to transcribe once its files reached the agent (the original, then its WAV
    # parts): not sent itself; its transcript follows as parts of purpose "transcript".
    recording: tuple[StoredMedia, ...] = ()


def text_parts(purpose: str, text: str, limit: int = CONNECT_TEXT_LIMIT) -> list[Part]:
    """``text`` as parts Connect takes (split on word boundaries at ``limit`` characters);
    none for blank text."""
    if not text.strip():
        return []
    return [
        Part(purpose=purpose, index=index, text=chunk)
        for index, chunk in enumerate(split_text(text, limit))
    ]


class Delivery:
    def __init__(
        self, *, ledger: Ledger, connect: ConnectChat, whatsapp: WhatsApp, lease_seconds: float
    ) -> None:
        self._ledger = ledger
        self._connect = connect
        self._whatsapp = whatsapp
        self._lease = lease_seconds

    def to_chat(self, session: ChatSession, source: str, parts: Sequence[Part]) -> None:
        """Send every part of ``source`` (a wamid) not yet in this chat generation, in order."""
        for part in parts:
            token = client_token(
                source, part.purpose, part=part.index, generation=session.generation
            )
            self._part_once(session, part, token)

    def _part_once(self, session: ChatSession, part: Part, token: str) -> None:
        """A ClientToken alone is not enough: a repeated StartAttachmentUpload hands back the
        first, possibly expired or already used, upload URL; so each part is recorded done.
        A part whose worker died while sending it is sent again with the same token: Connect
        keeps one."""
        done = f"done:{token}"
        if self._ledger.lease(done, seconds=self._lease) == "done":
            logger.debug(
                "part %s:%d already in contact %s", part.purpose, part.index, session.contact_id
            )
            return
        try:
            if part.media is not None:
                self._connect.send_attachment(
                    session.connection_token, part.media, name=part.name, client_token=token
                )
            else:
                self._connect.send_message(
                    session.connection_token, text=part.text, client_token=token
                )
        except BaseException:
            self._ledger.release(done)
            raise
        self._ledger.finish(done)

    def to_customer(self, step: str, business: BusinessNumber, message: Outgoing) -> str:
        """Send ``message`` to WhatsApp at most once for ``step``; "" when it may have gone.

        SendWhatsAppMessage takes no idempotency token, so the send is marked *maybe sent*
        before it leaves. A worker that finds the mark (its predecessor died mid-send) does not
        send again; a send that certainly did not happen (throttled, refused, never connected,
        or failing before it left) clears it so that a retry may send; ``Unconfirmed`` keeps it.
        """
        maybe_sent = f"sending:{step}"
        if not self._ledger.claim(maybe_sent):
            logger.warning("a send of %s may have gone out before; not sent again", step)
            return ""
        try:
            return self._whatsapp.send(business, message)
        except Unconfirmed:
            raise
        except BaseException:
            self._ledger.release(maybe_sent)
            raise
