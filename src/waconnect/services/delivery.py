"""The delivery engine both directions share: parts, each sent once, recorded as done.

A use case parses its input, plans it as a list of :class:`Part`s, and hands them here; one loop
(``_each_once``) delivers them in order. Each part has a claim key in the Ledger, leased while it
is sent and finished once it arrived, so a retry, a takeover after a crash or a re-run in a new
chat sends only what is missing:

- toward the agent (``to_chat``) a part is a text or a file for the Connect chat; its ClientToken
  comes from the one derivation (``client_tokens.client_token``: the source id, the part's
  purpose and index, the chat generation) and its claim is ``done:<token>``. Connect keeps one
  request per token, so a part is repeatable: one a dead worker still holds is sent again, and
  any failure releases it for the retry of the whole message;
- toward the customer (``to_customer``) a part is a text, a file, a typing indicator, the end
  of the chat..., claimed under a key the use case names. A WhatsApp send has no token: a part
  another worker holds waits, each send is made at most once (``send_once``), and a refusal
  settles the part (the use case reports it).

A new kind of part (a transcript, a converted file, a numbered voice-note WAV, a typing
indicator) is a new ``purpose`` word on a ``Part``; the loop does not change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from waconnect.domain.connect import ConnectAttachment
from waconnect.domain.media import StoredMedia
from waconnect.domain.outgoing import Outgoing, OutgoingChoices
from waconnect.domain.session import ChatSession
from waconnect.domain.text import CONNECT_TEXT_LIMIT, split_text
from waconnect.domain.whatsapp import BusinessNumber
from waconnect.errors import DeliveryError, TransientError, Unconfirmed
from waconnect.ports import ConnectChat, Ledger, WhatsApp
from waconnect.services.client_tokens import client_token

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """One request: a text (``media`` None), a file named ``name``, or an effect named by
    ``purpose`` ("typing", "close").

    ``purpose`` says what it is ("text", "caption", "file", "notice", "transcript", ...) and,
    with ``index``, tells it from the message's other parts. ``claim`` is its key in the Ledger
    (toward the chat, derived from the ClientToken when the chat generation is known; empty:
    an effect that may happen twice, such as closing a session).
    """

    purpose: str
    index: int = 0
    text: str = ""
    media: StoredMedia | None = None
    name: str = ""
    claim: str = ""
    token: str = ""
    # A voice note to transcribe once its files reached the agent (the original, then its WAV
    # parts): not sent itself; its transcript follows as parts of purpose "transcript".
    recording: tuple[StoredMedia, ...] = ()
    # An agent's file: downloaded, checked and converted only when its turn comes.
    attachment: ConnectAttachment | None = None
    # An agent's choices (reply buttons, a list) as WhatsApp shows them.
    choices: OutgoingChoices | None = None
    # The customer's message a typing indicator shows on.
    about: str = ""


@dataclass(frozen=True, slots=True)
class Progress:
    """What one pass over the parts did: ``sent`` parts; stopped at ``part`` when another
    worker holds it (``held``) or it was refused for good (``failure``; the part settled)."""

    sent: int = 0
    held: bool = False
    failure: DeliveryError | None = None
    part: Part | None = None


def text_parts(purpose: str, text: str, limit: int = CONNECT_TEXT_LIMIT) -> list[Part]:
    """``text`` as parts (split on word boundaries at ``limit`` characters); none for blank
    text."""
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

    def to_chat(
        self,
        session: ChatSession,
        source: str,
        parts: Sequence[Part],
        *,
        finish_with: Sequence[str] = (),
    ) -> None:
        """Send every part of ``source`` (a wamid) not yet in this chat generation, in order;
        then ``finish_with`` (the message's own claim) is marked done with the last part.

        A ClientToken alone is not enough: a repeated StartAttachmentUpload hands back the
        first, possibly expired or already used, upload URL; so each part is recorded done.
        Which parts are done is read at once (one consistent read), since a part is sent
        whoever holds it: its ClientToken keeps one copy. Each part sent is then marked done,
        the last in the same request as ``finish_with``. A failure marks nothing: a retry sends
        the part again with the same ClientToken.
        """
        tokened = []
        for part in parts:
            token = client_token(
                source, part.purpose, part=part.index, generation=session.generation
            )
            tokened.append(replace(part, token=token, claim=f"done:{token}"))
        done = (
            self._ledger.finished([p.claim for p in tokened], consistent=True) if parts else set()
        )
        todo = [part for part in tokened if part.claim not in done]
        if not todo:
            if finish_with:
                self._ledger.finish(*finish_with)
            return

        def send(part: Part) -> None:
            if part.media is not None:
                self._connect.send_attachment(
                    session.connection_token, part.media, name=part.name, client_token=part.token
                )
            else:
                self._connect.send_message(
                    session.connection_token, text=part.text, client_token=part.token
                )

        for part in todo[:-1]:
            send(part)
            self._ledger.finish(part.claim)
        send(todo[-1])
        self._ledger.finish(todo[-1].claim, *finish_with)

    def to_customer(self, parts: Sequence[Part], send: Callable[[Part], None]) -> Progress:
        """Run ``send`` for every part not yet done, in order, each under its claim's lease.

        A part another worker holds stops the pass (``held``); a part whose worker died is taken
        over once its lease ran out. A transient error (or any unexpected one) releases only the
        failing part and propagates, so a retry resumes there; any other ``DeliveryError``
        settles the part and ends the pass with it as ``failure``.
        """
        return self._each_once(parts, send)

    def send_once(self, step: str, business: BusinessNumber, message: Outgoing) -> str:
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

    def _each_once(self, parts: Sequence[Part], send: Callable[[Part], None]) -> Progress:
        """The loop of parts without a ClientToken: each not done yet, in order, under the lease
        of its claim. A held part stops the pass and a refusal settles the part."""
        sent = 0
        for part in parts:
            if part.claim:
                state = self._ledger.lease(part.claim, seconds=self._lease)
                if state == "done":
                    logger.debug("part %s:%d already done", part.purpose, part.index)
                    continue
                if state == "held":
                    return Progress(sent, held=True, part=part)
            try:
                send(part)
            except DeliveryError as exc:
                if isinstance(exc, TransientError) or not part.claim:
                    self._release(part)
                    raise
                self._ledger.finish(part.claim)
                return Progress(sent, failure=exc, part=part)
            except BaseException:
                self._release(part)
                raise
            if part.claim:
                self._ledger.finish(part.claim)
            sent += 1
        return Progress(sent)

    def _release(self, part: Part) -> None:
        if part.claim:
            self._ledger.release(part.claim)
